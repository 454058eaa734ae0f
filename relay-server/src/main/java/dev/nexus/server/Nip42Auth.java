package dev.nexus.server;

import dev.nexus.config.NexusConfig;
import dev.nexus.core.Event;
import dev.nexus.core.Kinds;
import dev.nexus.core.SignatureVerifier;
import java.net.URI;
import java.util.Locale;

/** NIP-42: checks a kind 22242 AUTH event against the connection's challenge and this relay's URL. */
final class Nip42Auth {
    static final long MAX_CLOCK_SKEW_SECONDS = 600;

    private final NexusConfig config;
    private final SignatureVerifier verifier;
    private volatile String relayUrl;
    private volatile String displayUrl;

    Nip42Auth(NexusConfig config, SignatureVerifier verifier) {
        this.config = config;
        this.verifier = verifier;
        useRelayUrl(config.server().publicUrl());
    }

    /** The URL AUTH events must name; set again once the port is bound when no public URL is configured. */
    void useRelayUrl(String url) {
        this.displayUrl = url;
        this.relayUrl = normalize(url);
    }

    /** Null when the event authenticates its pubkey on this session; otherwise the OK message. */
    String check(Session s, Event e, long now) {
        if (e.kind() != Kinds.AUTH) return "invalid: AUTH needs a kind 22242 event";
        String challenge = e.firstTagValue("challenge");
        if (challenge == null || !challenge.equals(s.challenge())) return "invalid: challenge does not match this connection's";
        String relay = e.firstTagValue("relay");
        if (relay == null || !namesThisRelay(normalize(relay), s.hostHeader())) {
            return "invalid: relay tag does not match this relay (" + displayUrl + ")";
        }
        if (Math.abs(e.createdAt() - now) > MAX_CLOCK_SKEW_SECONDS) return "invalid: created_at is more than 10 minutes from now";
        if (!verifier.verify(e)) return "invalid: bad signature";
        NexusConfig.Auth a = config.auth();
        if (a.deniedPubkeys().contains(e.pubkey())) return "blocked: this pubkey is not welcome here";
        if (!a.allowedPubkeys().isEmpty() && !a.allowedPubkeys().contains(e.pubkey())) {
            return "restricted: this pubkey is not on the relay's allow list";
        }
        return null;
    }

    /**
     * The configured public URL always counts. Without one, the relay cannot know the address
     * clients use (it may sit behind a proxy or bind 0.0.0.0), so the Host the client connected
     * to counts too; the per-connection challenge is what stops replays either way.
     */
    private boolean namesThisRelay(String relay, String hostHeader) {
        if (relay.equals(relayUrl)) return true;
        if (!config.server().url().isEmpty() || hostHeader == null || hostHeader.isBlank()) return false;
        return relay.equals(normalize("ws://" + hostHeader)) || relay.equals(normalize("wss://" + hostHeader));
    }

    /** Scheme and host compared case-insensitively, default ports and trailing slashes ignored. */
    static String normalize(String url) {
        try {
            URI u = new URI(url.trim());
            String scheme = u.getScheme() == null ? "" : u.getScheme().toLowerCase(Locale.ROOT);
            String host = u.getHost() == null ? "" : u.getHost().toLowerCase(Locale.ROOT);
            int port = u.getPort();
            if ((scheme.equals("ws") && port == 80) || (scheme.equals("wss") && port == 443)) port = -1;
            String path = u.getRawPath() == null ? "" : u.getRawPath();
            while (path.endsWith("/")) path = path.substring(0, path.length() - 1);
            return scheme + "://" + host + (port == -1 ? "" : ":" + port) + path;
        } catch (Exception e) {
            return url.trim().toLowerCase(Locale.ROOT);
        }
    }
}
