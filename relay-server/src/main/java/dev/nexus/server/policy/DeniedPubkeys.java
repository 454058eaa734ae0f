package dev.nexus.server.policy;

import dev.nexus.core.Event;
import java.util.Optional;

/** The deny list ({@code [auth] denied_pubkeys}, or a ban at run time): its authors may not publish. */
public final class DeniedPubkeys implements EventPolicy {
    private static final Optional<Refusal> REFUSAL = Optional.of(Refusal.blocked("this pubkey may not publish here"));
    private final AccessControl access;

    public DeniedPubkeys(AccessControl access) {
        this.access = access;
    }

    @Override
    public Optional<Refusal> check(Event event, ConnectionView connection) {
        return access.isDenied(event.pubkey()) ? REFUSAL : Optional.empty();
    }
}
