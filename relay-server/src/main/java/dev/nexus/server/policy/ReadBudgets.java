package dev.nexus.server.policy;

import dev.nexus.core.Filter;
import dev.nexus.server.RateLimiter;
import java.util.List;
import java.util.Optional;

/** {@code [rate_limits] reqs_*}: one token per REQ, COUNT or NEG-OPEN from the IP's budget, then the agent's. Last: it spends. */
public final class ReadBudgets implements ReadPolicy {
    private final RateLimiter limiter;

    public ReadBudgets(RateLimiter limiter) {
        this.limiter = limiter;
    }

    @Override
    public Optional<Refusal> check(String verb, List<Filter> filters, ConnectionView connection) {
        if (!limiter.forIp(connection.remoteIp()).tryTake(RateLimiter.Kind.REQS)) {
            return Optional.of(Refusal.rateLimited("slow down, too many " + verb + "s from your address"));
        }
        String agent = connection.firstAuthenticated();
        if (agent != null && !limiter.forPubkey(agent).tryTake(RateLimiter.Kind.REQS)) {
            return Optional.of(Refusal.rateLimited("slow down, too many " + verb + "s from your pubkey"));
        }
        return Optional.empty();
    }
}
