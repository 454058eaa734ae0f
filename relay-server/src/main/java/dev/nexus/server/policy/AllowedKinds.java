package dev.nexus.server.policy;

import dev.nexus.core.Event;
import java.util.Optional;

/** {@code [limits] allowed_kinds} (and kinds denied at run time): a relay for some kinds only. */
public final class AllowedKinds implements EventPolicy {
    private final AccessControl access;

    public AllowedKinds(AccessControl access) {
        this.access = access;
    }

    @Override
    public Optional<Refusal> check(Event event, ConnectionView connection) {
        return access.acceptsKind(event.kind()) ? Optional.empty()
                : Optional.of(Refusal.blocked("this relay does not accept kind " + event.kind() + " events"));
    }
}
