package dev.nexus.server.policy;

import dev.nexus.core.Event;
import dev.nexus.core.Kinds;
import java.util.Optional;

/** NIP-42: a kind 22242 event authenticates a connection; published as an EVENT it would be stored and replayable. */
public final class AuthEventsOnlyInAuth implements EventPolicy {
    private static final Optional<Refusal> REFUSAL = Optional.of(Refusal.invalid("kind 22242 events are only accepted in an AUTH message"));

    @Override
    public Optional<Refusal> check(Event event, ConnectionView connection) {
        return event.kind() == Kinds.AUTH ? REFUSAL : Optional.empty();
    }
}
