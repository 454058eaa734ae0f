package dev.nexus.server.policy;

import java.util.Set;

/** A connection as policies see it, without a socket. */
record Connection(String remoteIp, Set<String> authenticatedPubkeys) implements ConnectionView {
    static Connection anonymous() {
        return new Connection("203.0.113.7", Set.of());
    }

    static Connection as(String pubkey) {
        return new Connection("203.0.113.7", Set.of(pubkey));
    }
}
