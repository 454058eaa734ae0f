package dev.nexus.server.nip86;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import dev.nexus.core.Event;
import dev.nexus.core.EventJson;
import dev.nexus.core.Hex;
import dev.nexus.core.ProtocolLimits;
import dev.nexus.core.SignatureVerifier;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Base64;
import java.util.Set;
import java.util.function.LongSupplier;
import java.util.function.Predicate;

/**
 * NIP-98 HTTP auth for NIP-86 calls: {@code Authorization: Nostr <base64 event>} where the event is
 * kind 27235, signed by an operator key, created within {@link #MAX_SKEW_SECONDS} of now, and whose
 * {@code u}, {@code method} and {@code payload} tags name this relay, this HTTP method and the
 * SHA-256 of this body. The payload tag is required: without it one signed call could be replayed
 * with any other body inside the time window.
 */
public final class Nip98Authorization {
    public static final int KIND = 27235;
    public static final long MAX_SKEW_SECONDS = 60;
    private static final JsonFactory JSON = new JsonFactory();
    /** A NIP-98 event is a handful of short tags; anything bigger is not one. */
    private static final int MAX_HEADER_CHARS = 8192;

    private final Set<String> operators;
    private final Predicate<String> urlNamesThisRelay;
    private final SignatureVerifier verifier;
    private final LongSupplier nowSeconds;

    public Nip98Authorization(Set<String> operators, Predicate<String> urlNamesThisRelay, SignatureVerifier verifier, LongSupplier nowSeconds) {
        this.operators = Set.copyOf(operators);
        this.urlNamesThisRelay = urlNamesThisRelay;
        this.verifier = verifier;
        this.nowSeconds = nowSeconds;
    }

    /** Null when the call is authorized; otherwise why not (told to the caller with the 401). */
    public String refusal(String authorization, String httpMethod, byte[] body) {
        if (authorization == null || !authorization.regionMatches(true, 0, "Nostr ", 0, 6)) return "missing Authorization: Nostr <base64 NIP-98 event>";
        if (authorization.length() > MAX_HEADER_CHARS) return "Authorization header too long";
        Event event;
        try {
            byte[] json = Base64.getDecoder().decode(authorization.substring(6).trim());
            try (JsonParser p = JSON.createParser(json)) {
                p.nextToken();
                event = EventJson.parse(p, ProtocolLimits.DEFAULT);
            }
        } catch (Exception e) {
            return "Authorization is not a base64 Nostr event";
        }
        if (event.kind() != KIND) return "NIP-98 event must be kind " + KIND;
        long now = nowSeconds.getAsLong();
        if (Math.abs(event.createdAt() - now) > MAX_SKEW_SECONDS) return "NIP-98 event created_at is more than " + MAX_SKEW_SECONDS + " s from now";
        String u = event.firstTagValue("u");
        if (u == null || !urlNamesThisRelay.test(u)) return "NIP-98 u tag does not name this relay";
        String method = event.firstTagValue("method");
        if (method == null || !method.equalsIgnoreCase(httpMethod)) return "NIP-98 method tag does not match " + httpMethod;
        String payload = event.firstTagValue("payload");
        if (payload == null || !payload.equalsIgnoreCase(sha256Hex(body))) return "NIP-98 payload tag is not the SHA-256 of the body";
        if (!verifier.verify(event)) return "NIP-98 event signature is invalid";
        if (!operators.contains(event.pubkey())) return "this pubkey may not manage this relay";
        return null;
    }

    public static String sha256Hex(byte[] body) {
        try {
            return Hex.encode(MessageDigest.getInstance("SHA-256").digest(body));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    static String utf8(byte[] b) {
        return new String(b, StandardCharsets.UTF_8);
    }
}
