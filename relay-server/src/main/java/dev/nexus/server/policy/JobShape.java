package dev.nexus.server.policy;

import dev.nexus.core.Event;
import dev.nexus.core.MarketplaceKinds;
import java.util.Optional;

/** NIP-90: job results and feedback must reference their job ({@link MarketplaceKinds#shapeRefusal}). */
public final class JobShape implements EventPolicy {
    private final MarketplaceKinds marketplace;

    public JobShape(MarketplaceKinds marketplace) {
        this.marketplace = marketplace;
    }

    @Override
    public Optional<Refusal> check(Event event, ConnectionView connection) {
        String refusal = marketplace.shapeRefusal(event);
        return refusal == null ? Optional.empty() : Optional.of(Refusal.ofMessage(refusal));
    }
}
