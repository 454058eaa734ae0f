package dev.nexus.server.policy;

import dev.nexus.core.Event;
import java.util.Optional;

/** Event ids the operator banned (NIP-86 banevent): refused before the duplicate check, so a banned event never reads as "already have". */
public final class DeniedEvents implements EventPolicy {
    private static final Optional<Refusal> REFUSAL = Optional.of(Refusal.blocked("this event was banned by the relay operator"));
    private final AccessControl access;

    public DeniedEvents(AccessControl access) {
        this.access = access;
    }

    @Override
    public Optional<Refusal> check(Event event, ConnectionView connection) {
        return access.isEventDenied(event.id()) ? REFUSAL : Optional.empty();
    }
}
