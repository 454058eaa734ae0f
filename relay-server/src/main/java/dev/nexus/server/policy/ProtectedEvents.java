package dev.nexus.server.policy;

import dev.nexus.core.Event;
import java.util.Optional;

/** NIP-70: an event with a {@code ["-"]} tag may only be published by its author, authenticated. */
public final class ProtectedEvents implements EventPolicy {
    private static final Optional<Refusal> NOT_AUTHOR = Optional.of(Refusal.restricted("this protected event may only be published by its author"));
    private static final Optional<Refusal> NOT_AUTHENTICATED =
            Optional.of(Refusal.authRequired("this protected event may only be published by its authenticated author"));

    @Override
    public Optional<Refusal> check(Event event, ConnectionView connection) {
        if (!event.hasTag("-") || connection.authenticatedPubkeys().contains(event.pubkey())) return Optional.empty();
        return connection.isAuthenticated() ? NOT_AUTHOR : NOT_AUTHENTICATED;
    }
}
