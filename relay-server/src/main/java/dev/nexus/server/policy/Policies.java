package dev.nexus.server.policy;

import dev.nexus.config.NexusConfig;
import dev.nexus.core.Event;
import dev.nexus.core.Filter;
import dev.nexus.server.RateLimiter;
import java.util.List;
import java.util.Optional;
import java.util.function.LongSupplier;

/**
 * The admission rules in the order they run: the one place that decides which rules a relay
 * applies. A new rule is a class here plus, if it is configurable, a config key read in
 * {@link #fromConfig}. Rules that can refuse for free come first, budgets (which spend tokens) last.
 */
public final class Policies {
    private final List<EventPolicy> eventPolicies;
    private final List<ReadPolicy> readPolicies;

    public Policies(List<EventPolicy> eventPolicies, List<ReadPolicy> readPolicies) {
        this.eventPolicies = List.copyOf(eventPolicies);
        this.readPolicies = List.copyOf(readPolicies);
    }

    public static Policies fromConfig(NexusConfig config, AccessControl access, RateLimiter limiter, LongSupplier nowSeconds) {
        NexusConfig.Auth auth = config.auth();
        NexusConfig.Limits limits = config.limits();
        return new Policies(List.of(
                new AuthEventsOnlyInAuth(),
                new AuthRequiredToPublish(auth),
                new DeniedPubkeys(access),
                new DeniedEvents(access),
                new AllowedPubkeys(access, auth),
                new AllowedKinds(access),
                new ProtectedEvents(),
                new CreatedAtWindow(limits.createdAtLowerLimit(), limits.createdAtUpperLimit(), nowSeconds),
                new ExpiredEvents(nowSeconds),
                new JobShape(config.marketplace().kinds()),
                new PublishBudgets(limiter, config.marketplace().kinds())),
            List.of(
                new AuthRequiredToRead(auth),
                new ReadBudgets(limiter)));
    }

    /** The first refusal among the event rules, or null when the event may go on to signature check and store. */
    public Refusal admit(Event event, ConnectionView connection) {
        for (EventPolicy p : eventPolicies) {
            Optional<Refusal> refusal = p.check(event, connection);
            if (refusal.isPresent()) return refusal.get();
        }
        return null;
    }

    /** The first refusal among the read rules, or null when the REQ, COUNT or NEG-OPEN may run. */
    public Refusal admitRead(String verb, List<Filter> filters, ConnectionView connection) {
        for (ReadPolicy p : readPolicies) {
            Optional<Refusal> refusal = p.check(verb, filters, connection);
            if (refusal.isPresent()) return refusal.get();
        }
        return null;
    }

    public List<EventPolicy> eventPolicies() { return eventPolicies; }
    public List<ReadPolicy> readPolicies() { return readPolicies; }
}
