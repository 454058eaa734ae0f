package dev.nexus.core.testing;

import dev.nexus.core.Event;
import dev.nexus.core.EventJson;
import dev.nexus.core.Hex;
import fr.acinq.secp256k1.Secp256k1;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.List;

/** A real secp256k1 key pair that signs real events, for tests in every module. */
public final class NostrKey {
    private static final SecureRandom RANDOM = new SecureRandom();
    private static final Secp256k1 SECP = Secp256k1.Companion.get();

    private final byte[] secret;
    private final String pubkey;

    private NostrKey(byte[] secret) {
        this.secret = secret;
        byte[] uncompressed = SECP.pubkeyCreate(secret);
        byte[] x = new byte[32];
        System.arraycopy(uncompressed, 1, x, 0, 32);
        this.pubkey = Hex.encode(x);
    }

    public static NostrKey generate() {
        byte[] secret = new byte[32];
        RANDOM.nextBytes(secret);
        return new NostrKey(secret);
    }

    public String pubkey() {
        return pubkey;
    }

    public Event sign(int kind, List<List<String>> tags, String content, long createdAt) {
        List<List<String>> copy = new ArrayList<>();
        for (List<String> t : tags) copy.add(List.copyOf(t));
        String id = EventJson.computeId(pubkey, createdAt, kind, copy, content);
        byte[] aux = new byte[32];
        RANDOM.nextBytes(aux);
        String sig = Hex.encode(SECP.signSchnorr(Hex.decode(id), secret, aux));
        return new Event(id, pubkey, createdAt, kind, List.copyOf(copy), content, sig);
    }

    public Event sign(int kind, List<List<String>> tags, String content) {
        return sign(kind, tags, content, System.currentTimeMillis() / 1000);
    }

    public Event sign(int kind, String content) {
        return sign(kind, List.of(), content);
    }

    public static String eventMessage(Event e) {
        return "[\"EVENT\"," + e.json() + "]";
    }
}
