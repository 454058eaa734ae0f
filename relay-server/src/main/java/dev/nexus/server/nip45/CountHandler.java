package dev.nexus.server.nip45;

import dev.nexus.core.ClientMessage;
import dev.nexus.core.RelayMessages;
import dev.nexus.server.QueryFailures;
import dev.nexus.server.QueueBound;
import dev.nexus.server.RestrictedKinds;
import dev.nexus.server.Session;
import dev.nexus.server.policy.Policies;
import dev.nexus.server.policy.Refusal;
import dev.nexus.storage.EventStore;
import java.util.concurrent.Executor;
import java.util.function.LongSupplier;

/** NIP-45 COUNT: one number from the query workers, under the same read policies (auth, REQ budget) as a REQ. */
public final class CountHandler {
    private final Policies policies;
    private final EventStore store;
    private final Executor queryWorkers;
    private final QueueBound queriesBound;
    private final RestrictedKinds restricted;
    private final LongSupplier nowSeconds;

    public CountHandler(Policies policies, EventStore store, Executor queryWorkers, QueueBound queriesBound, RestrictedKinds restricted,
                 LongSupplier nowSeconds) {
        this.policies = policies;
        this.store = store;
        this.queryWorkers = queryWorkers;
        this.queriesBound = queriesBound;
        this.restricted = restricted;
        this.nowSeconds = nowSeconds;
    }

    public void onCount(Session s, ClientMessage.Count count) {
        String subId = count.subscriptionId();
        Refusal refusal = policies.admitRead("COUNT", count.filters(), s);
        if (refusal != null) {
            s.send(RelayMessages.closed(subId, refusal.message()));
            return;
        }
        queriesBound.enter(s.channel());
        queryWorkers.execute(() -> {
            try {
                runCount(s, subId, count);
            } finally {
                queriesBound.exit();
            }
        });
    }

    private void runCount(Session s, String subId, ClientMessage.Count count) {
        if (!s.channel().isActive()) return;
        try {
            long now = nowSeconds.getAsLong();
            s.send(RelayMessages.count(subId, restricted.visibleCount(count.filters(), s.authenticatedPubkeys(), fs -> store.count(fs, now))));
        } catch (RuntimeException ex) {
            s.send(RelayMessages.closed(subId, QueryFailures.answer(ex, "count", subId)));
        }
    }
}
