package dev.nexus.server.nip01;

import dev.nexus.core.Event;
import dev.nexus.core.Kinds;
import dev.nexus.core.MarketplaceKinds;
import dev.nexus.core.RelayMessages;
import dev.nexus.core.SignatureVerifier;
import dev.nexus.server.QueueBound;
import dev.nexus.server.ReadGate;
import dev.nexus.server.Session;
import dev.nexus.server.TwoLaneExecutor;
import dev.nexus.server.metrics.RelayMetrics;
import dev.nexus.server.policy.Policies;
import dev.nexus.server.policy.Refusal;
import dev.nexus.storage.EventStore;
import dev.nexus.storage.LiveFeed;
import dev.nexus.storage.WriteResult;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * NIP-01 EVENT, from frame to OK: the {@link Policies} on the I/O thread, the recent-ids cache,
 * back-pressure (a connection with too many EVENTs in flight stops being read), the signature (stored job
 * traffic's on its event loop until the connection sends a bad one, the rest on the verifier pool, job
 * traffic in its priority lane), the store (or, for ephemeral events, the live
 * feed), then the OK, then the hand-off of what was committed to the {@link LiveFeed}. Every EVENT read gets exactly one OK, shutdown included.
 */
public final class EventIngest {
    private static final Logger log = LoggerFactory.getLogger(EventIngest.class);
    /** EVENTs one connection may have between parse and OK before the relay stops reading from it. */
    private static final int MAX_EVENTS_IN_FLIGHT = 1024;
    private static final int RESUME_READING_AT = MAX_EVENTS_IN_FLIGHT / 2;

    private final Policies policies;
    private final EventStore store;
    private final LiveFeed liveFeed;
    private final SignatureVerifier verifier;
    private final TwoLaneExecutor verifiers;
    private final MarketplaceKinds marketplace;
    private final RecentIds recentIds = new RecentIds(100_000);
    private final QueueBound eventsBound;
    private volatile boolean shuttingDown;

    private final RelayMetrics metrics;

    public EventIngest(Policies policies, EventStore store, LiveFeed liveFeed, SignatureVerifier verifier, TwoLaneExecutor verifiers,
                MarketplaceKinds marketplace, int maxEventsInFlight, RelayMetrics metrics) {
        this.metrics = metrics;
        this.policies = policies;
        this.store = store;
        this.liveFeed = liveFeed;
        this.verifier = verifier;
        this.verifiers = verifiers;
        this.marketplace = marketplace;
        this.eventsBound = new QueueBound(maxEventsInFlight);
    }

    /** From now on EVENTs are answered at once, not stored: the relay is stopping (decoders may still read a little). */
    public void refuseNewEvents() {
        shuttingDown = true;
    }

    /** Waits until every EVENT read so far has been answered (its OK sent after commit); false on timeout. */
    public boolean awaitEventsAnswered(long timeoutMillis) throws InterruptedException {
        long deadline = System.currentTimeMillis() + timeoutMillis;
        while (eventsBound.queued() > 0) {
            if (System.currentTimeMillis() > deadline) return false;
            Thread.sleep(10);
        }
        return true;
    }

    /** On the session's event loop. */
    public void onEvent(Session s, Event e) {
        if (shuttingDown) {
            s.send(RelayMessages.ok(e.id(), false, "error: the relay is shutting down; publish again once it is back"));
            metrics.eventAnswered(e, false, "error:");
            return;
        }
        Refusal refusal = policies.admit(e, s);
        if (refusal != null) {
            s.send(RelayMessages.ok(e.id(), false, refusal.message()));
            metrics.eventAnswered(e, false, refusal.message());
            return;
        }
        if (recentIds.contains(e.id())) {
            s.send(RelayMessages.ok(e.id(), WriteResult.ALREADY_STORED.accepted(), WriteResult.ALREADY_STORED.message()));
            metrics.eventAnswered(e, true, WriteResult.ALREADY_STORED.message());
            return;
        }
        if (s.eventInFlight() >= MAX_EVENTS_IN_FLIGHT) ReadGate.of(s.channel()).pause(ReadGate.EVENTS_IN_FLIGHT);
        eventsBound.enter(s.channel());
        boolean jobTraffic = marketplace.isJobTraffic(e.kind());
        if (jobTraffic && !Kinds.isEphemeral(e.kind()) && s.jobsVerifiedOnLoop()) {
            // Checked here, on the loop that read it: queued for a verifier, a job waited for that thread's next
            // turn on a CPU that a social flood keeps busy (p99 10-13 ms of a job's OK under the flood). Only until
            // the connection's first bad signature: from then on its job traffic takes the verifiers' priority lane,
            // so junk signatures cost a loop one check per connection, and a valid job costs its signer a signature
            // of its own and is checked once (a copy is a duplicate above). Ephemeral job traffic (ContextVM's 25910)
            // stays in the lane: it is relayed through the live feed, which may wait for room, and a loop never waits.
            if (!verifyAndStore(s, e)) s.stopVerifyingJobsOnLoop();
            return;
        }
        verifiers.execute(() -> verifyAndStore(s, e), jobTraffic);
    }

    /** Answers a bad signature, else stores (or relays) the event; returns whether the signature was good. */
    private boolean verifyAndStore(Session s, Event e) {
        if (!verifier.verify(e)) {
            finish(s, e, WriteResult.invalid("bad signature"));
            return false;
        }
        storeVerified(s, e);
        return true;
    }

    private void storeVerified(Session s, Event e) {
        if (Kinds.isEphemeral(e.kind())) {
            liveFeed.publish(e).whenComplete((result, error) -> finish(s, e, error == null ? result : WriteResult.error("could not relay the event")));
            return;
        }
        store.write(e).whenComplete((result, error) -> {
            if (error != null) {
                log.error("storing event {} failed: {}", e.id(), error.toString());
                result = WriteResult.error("could not store the event");
            }
            // The id caches are updated before the OK: a client that republishes a deleted event right after
            // the deletion's OK must reach the store (blocked:), not a stale cache entry.
            if (result.accepted()) {
                recentIds.add(e.id());
                if (result.isNew() && e.kind() == Kinds.DELETION) forgetDeleted(e);
            }
            // Still on the writer's thread: only a hand-off. Fan-out reads the feed on its own thread (a cluster
            // feed ignores this and reads every node's commits, this one's included, from the database).
            // Before the OK: a client that publishes its next event on seeing this OK must find this one
            // already ahead of it on the feed, so that subscribers see the two in the order they were sent.
            if (result.isNew()) liveFeed.committedHere(e);
            finish(s, e, result);
        });
    }

    /** An event the operator banned (and the store deleted) is no longer a duplicate once the ban is lifted. */
    public void forget(String id) {
        recentIds.remove(id);
    }

    /** Deleted ids must reach the store again so that it can answer "blocked:", not "duplicate:". */
    public void forgetDeleted(Event deletion) {
        for (List<String> tag : deletion.tags()) {
            if (tag.size() >= 2 && tag.get(0).equals("e")) recentIds.remove(tag.get(1));
        }
    }

    private void finish(Session s, Event e, WriteResult result) {
        s.send(RelayMessages.ok(e.id(), result.accepted(), result.message()));
        metrics.eventAnswered(e, result.accepted(), result.message());
        eventsBound.exit();
        if (s.eventAnswered() == RESUME_READING_AT) ReadGate.of(s.channel()).resume(ReadGate.EVENTS_IN_FLIGHT);
    }
}
