package dev.nexus.server.nip42;

import dev.nexus.config.NexusConfig;
import dev.nexus.core.Event;
import dev.nexus.core.Kinds;
import dev.nexus.core.SignatureVerifier;
import dev.nexus.server.Session;
import dev.nexus.server.policy.AccessControl;
import java.net.URI;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/** NIP-42: checks a kind 22242 AUTH event against the connection's challenge and this relay's URL. */
public final class Nip42Auth {
    static final long MAX_CLOCK_SKEW_SECONDS = 600;

    private final NexusConfig config;
    private final SignatureVerifier verifier;
    private final AccessControl access;
    private volatile Set<String> relayNames = Set.of();
    private volatile String displayUrl;

    public Nip42Auth(NexusConfig config, SignatureVerifier verifier, AccessControl access) {
        this.config = config;
        this.access = access;
        this.verifier = verifier;
        useBoundPort(config.server().port());
    }

    /**
     * The names AUTH events may give in their relay tag, fixed once the port is bound. Never the
     * Host header a client sent: an AUTH event a victim signed for another relay names that other
     * relay, and a client can send any Host it likes, so trusting it lets such events be replayed
     * here. The configured url when there is one; otherwise the bind address (with localhost and
     * its loopback twins when bound to loopback); and every name in {@code [server] relay_names}.
     */
    public void useBoundPort(int port) {
        NexusConfig.Server s = config.server();
        Set<String> names = new HashSet<>();
        String publicUrl = s.publicUrl(port);
        names.add(normalize(publicUrl));
        if (s.url().isEmpty()) {
            List<String> hosts = new ArrayList<>(List.of(s.host().contains(":") ? "[" + s.host() + "]" : s.host()));
            if (s.loopbackBind()) hosts.addAll(List.of("localhost", "127.0.0.1", "[::1]"));
            for (String host : hosts) {
                names.add(normalize("ws://" + host + ":" + port));
                names.add(normalize("wss://" + host + ":" + port));
            }
        }
        for (String name : s.relayNames()) {
            if (name.startsWith("ws://") || name.startsWith("wss://")) {
                names.add(normalize(name));
            } else {
                names.add(normalize("ws://" + name));
                names.add(normalize("wss://" + name));
            }
        }
        this.relayNames = Set.copyOf(names);
        this.displayUrl = publicUrl;
    }

    /** Null when the event authenticates its pubkey on this session; otherwise the OK message. */
    String check(Session s, Event e, long now) {
        if (e.kind() != Kinds.AUTH) return "invalid: AUTH needs a kind 22242 event";
        String challenge = e.firstTagValue("challenge");
        if (challenge == null || !challenge.equals(s.challenge())) return "invalid: challenge does not match this connection's";
        String relay = e.firstTagValue("relay");
        if (relay == null || !relayNames.contains(normalize(relay))) {
            return "invalid: relay tag does not match this relay (" + displayUrl + ")";
        }
        if (Math.abs(e.createdAt() - now) > MAX_CLOCK_SKEW_SECONDS) return "invalid: created_at is more than 10 minutes from now";
        if (!verifier.verify(e)) return "invalid: bad signature";
        if (access.isDenied(e.pubkey())) return "blocked: this pubkey is not welcome here";
        if (!access.isAllowed(e.pubkey())) {
            return "restricted: this pubkey is not on the relay's allow list";
        }
        return null;
    }

    /**
     * Whether an http(s) or ws(s) URL names this relay (NIP-98's {@code u} tag for NIP-86 calls):
     * the same names AUTH events may give, over HTTP as over WebSocket.
     */
    public boolean namesThisRelay(String url) {
        String u = url.trim();
        if (u.regionMatches(true, 0, "https://", 0, 8)) u = "wss://" + u.substring(8);
        else if (u.regionMatches(true, 0, "http://", 0, 7)) u = "ws://" + u.substring(7);
        return relayNames.contains(normalize(u));
    }

    /** Scheme and host compared case-insensitively, default ports and trailing slashes ignored. */
    public static String normalize(String url) {
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
