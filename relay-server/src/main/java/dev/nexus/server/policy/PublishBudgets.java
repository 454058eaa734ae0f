package dev.nexus.server.policy;

import dev.nexus.core.Event;
import dev.nexus.core.MarketplaceKinds;
import dev.nexus.server.RateLimiter;
import java.util.Optional;

/**
 * {@code [rate_limits]}: one token from the IP's budget, then one from the authenticated agent's
 * (job traffic from the jobs budget). Last in the chain: it spends tokens, so an event another rule
 * refuses must not cost any. The agent is the authenticated author when there is one, else the
 * connection's first pubkey: a gift wrap's throwaway key or a relayed event's author is not charged.
 */
public final class PublishBudgets implements EventPolicy {
    private static final Optional<Refusal> IP = Optional.of(Refusal.rateLimited("slow down, too many events from your address"));
    private static final Optional<Refusal> PUBKEY = Optional.of(Refusal.rateLimited("slow down, too many events from your pubkey"));
    private final RateLimiter limiter;
    private final MarketplaceKinds marketplace;

    public PublishBudgets(RateLimiter limiter, MarketplaceKinds marketplace) {
        this.limiter = limiter;
        this.marketplace = marketplace;
    }

    @Override
    public Optional<Refusal> check(Event event, ConnectionView connection) {
        RateLimiter.Kind budget = marketplace.isJobTraffic(event.kind()) ? RateLimiter.Kind.JOBS : RateLimiter.Kind.EVENTS;
        if (!limiter.forIp(connection.remoteIp()).tryTake(budget)) return IP;
        String agent = connection.authenticatedPubkeys().contains(event.pubkey()) ? event.pubkey() : connection.firstAuthenticated();
        if (agent != null && !limiter.forPubkey(agent).tryTake(budget)) return PUBKEY;
        return Optional.empty();
    }
}
