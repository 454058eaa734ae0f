package dev.nexus.server.nip01;

import dev.nexus.config.NexusConfig;
import dev.nexus.core.ClientMessage;
import dev.nexus.core.Filter;
import dev.nexus.core.RelayMessages;
import dev.nexus.server.HiddenAuthors;
import dev.nexus.server.QueryFailures;
import dev.nexus.server.QueueBound;
import dev.nexus.server.RestrictedKinds;
import dev.nexus.server.Session;
import dev.nexus.server.policy.Policies;
import dev.nexus.server.policy.Refusal;
import dev.nexus.storage.EventStore;
import dev.nexus.storage.StoredEvent;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Executor;
import java.util.function.LongSupplier;

/**
 * NIP-01 REQ and CLOSE: read policies, the per-connection and relay-wide subscription caps, the
 * stored query on the query workers (results paced by {@link Session#sendStored}), and the
 * subscription in the {@link SubscriptionIndex} that {@link FanOut} matches live events against.
 */
public final class Subscriptions {
    private final NexusConfig.Limits limits;
    private final Policies policies;
    private final EventStore store;
    private final Executor queryWorkers;
    private final QueueBound queriesBound;
    private final SubscriptionIndex index;
    private final RestrictedKinds restricted;
    private final HiddenAuthors hidden;
    private final LongSupplier nowSeconds;

    public Subscriptions(NexusConfig.Limits limits, Policies policies, EventStore store, Executor queryWorkers, QueueBound queriesBound,
                  SubscriptionIndex index, RestrictedKinds restricted, HiddenAuthors hidden, LongSupplier nowSeconds) {
        this.hidden = hidden;
        this.limits = limits;
        this.policies = policies;
        this.store = store;
        this.queryWorkers = queryWorkers;
        this.queriesBound = queriesBound;
        this.index = index;
        this.restricted = restricted;
        this.nowSeconds = nowSeconds;
    }

    public void onReq(Session s, ClientMessage.Subscribe req) {
        String subId = req.subscriptionId();
        Refusal refusal = policies.admitRead("REQ", req.filters(), s);
        if (refusal != null) {
            s.send(RelayMessages.closed(subId, refusal.message()));
            return;
        }
        if (!s.isAuthenticated() && req.filters().stream().anyMatch(restricted::mayMatchRestricted)) {
            // NIP-42 on demand: private events reach this REQ only once the client authenticates as an involved key.
            s.send(RelayMessages.auth(s.challenge()));
            if (req.filters().stream().allMatch(restricted::onlyRestricted)) {
                s.send(RelayMessages.closed(subId, "auth-required: these kinds are served only to their authenticated author or recipients"));
                return;
            }
        }
        int max = limits.maxSubscriptions();
        if (!s.hasSubscription(subId) && s.subscriptionCount() >= max) {
            s.send(RelayMessages.closed(subId, "rate-limited: too many open subscriptions (max " + max + ")"));
            return;
        }
        Subscription sub = new Subscription(s, subId, req.filters());
        Subscription replaced = s.putSubscription(sub);
        if (replaced != null) index.remove(replaced);
        if (!index.tryAdd(sub)) {
            s.removeSubscription(subId);
            s.send(RelayMessages.closed(subId, "rate-limited: the relay holds as many subscriptions as it can; try again later"));
            return;
        }
        queriesBound.enter(s.channel());
        queryWorkers.execute(() -> {
            try {
                runStoredQuery(s, sub);
            } finally {
                queriesBound.exit();
            }
        });
    }

    public void onClose(Session s, String subId) {
        Subscription sub = s.removeSubscription(subId);
        if (sub != null) index.remove(sub);
    }

    public void onDisconnect(Session s) {
        for (Subscription sub : s.removeAllSubscriptions()) index.remove(sub);
    }

    private void runStoredQuery(Session s, Subscription sub) {
        // A client that re-sends REQ under the same id faster than queries run would otherwise queue dead work.
        if (sub.cancelled() || s.isClosing() || !s.channel().isActive()) return;
        List<StoredEvent> found = new ArrayList<>();
        try {
            long now = nowSeconds.getAsLong();
            int maxLimit = limits.maxLimit();
            // Only several filters can return one event twice; one filter's results need no id set.
            Set<String> ids = sub.filters().size() > 1 ? new HashSet<>() : null;
            for (Filter f : sub.filters()) {
                if (sub.cancelled()) return;
                int limit = f.limit() == null ? maxLimit : Math.min(f.limit(), maxLimit);
                for (StoredEvent ev : store.query(f, limit, now)) if (ids == null || ids.add(ev.id())) found.add(ev);
            }
            if (hidden.any()) found.removeIf(ev -> hidden.hides(ev.json()));
            if (sub.filters().stream().anyMatch(restricted::mayMatchRestricted)) {
                found.removeIf(ev -> !restricted.visibleTo(s.authenticatedPubkeys(), ev.json()));
            }
            if (ids != null) {
                found.sort(Comparator.comparingLong(StoredEvent::createdAt).reversed().thenComparing(StoredEvent::id));
            }
        } catch (RuntimeException ex) {
            String answer = QueryFailures.answer(ex, "query", sub.id());
            s.channel().eventLoop().execute(() -> {
                if (!sub.cancelled()) {
                    s.removeSubscription(sub.id());
                    index.remove(sub);
                    s.send(RelayMessages.closed(sub.id(), answer));
                }
            });
            return;
        }
        s.channel().eventLoop().execute(() -> s.sendStored(sub, found));
    }
}
