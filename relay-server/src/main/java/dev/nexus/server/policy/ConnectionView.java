package dev.nexus.server.policy;

import java.util.Set;

/** What a policy may know about the connection an EVENT or a REQ came on; read-only. */
public interface ConnectionView {

    /** The client's address (after the configured real-IP header), the key of its per-IP budgets. */
    String remoteIp();

    /** The pubkeys this connection has authenticated as with NIP-42 (a live, unmodifiable view). */
    Set<String> authenticatedPubkeys();

    default boolean isAuthenticated() {
        return !authenticatedPubkeys().isEmpty();
    }

    /** The first authenticated pubkey, or null: the agent a read or a relayed event is charged to. */
    default String firstAuthenticated() {
        for (String pubkey : authenticatedPubkeys()) return pubkey;
        return null;
    }
}
