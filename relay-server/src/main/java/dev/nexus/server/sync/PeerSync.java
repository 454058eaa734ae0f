package dev.nexus.server.sync;

import com.fasterxml.jackson.databind.JsonNode;
import dev.nexus.config.NexusConfig;
import dev.nexus.config.NexusConfig.SyncDirection;
import dev.nexus.core.Event;
import dev.nexus.core.Filter;
import dev.nexus.core.Hex;
import dev.nexus.core.ProtocolLimits;
import dev.nexus.core.SignatureVerifier;
import dev.nexus.core.nip77.Negentropy;
import dev.nexus.core.nip77.NegentropyException;
import dev.nexus.core.nip77.VectorStorage;
import dev.nexus.storage.EventStore;
import dev.nexus.storage.RetentionPolicy;
import java.net.http.HttpClient;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;

/**
 * NIP-77 federation, initiator side: reconciles the events of this relay's store matching a filter
 * with a peer's, then fetches what this side lacks (REQ by ids, in batches) and/or publishes what
 * the peer lacks (EVENT, a few in flight, each waiting for its OK).
 *
 * <p>Fetched events ({@link PeerFetch}) go through the checks the relay applies to published events that make sense
 * for relayed ones (see {@link PeerFetch#refusal}) and then the store's write path (replaceable and
 * addressable rules, NIP-09 deletions); {@code afterStored} hears of each newly stored event (the
 * running relay feeds its live subscribers from it). When the peer refuses a filter as covering
 * too many events ({@code blocked:} with max_negentropy_events), or this side holds more than its
 * own maximum, the time range is halved and each half reconciled on its own.
 */
public final class PeerSync {
    private static final int MAX_SPLIT_DEPTH = 40;

    private final EventStore store;
    private final NexusConfig config;
    private final EventSigner signer;
    private final PeerFetch down;
    private final PeerPublish up;
    private final HttpClient http;
    private final long timeoutMillis;
    private final AtomicLong subscriptionIds = new AtomicLong();

    /**
     * @param signer      the key to authenticate with when a peer asks, or null
     * @param afterStored called (on the store's writer thread) with each event the store took as new
     */
    public PeerSync(EventStore store, SignatureVerifier verifier, NexusConfig config, EventSigner signer, Consumer<Event> afterStored,
                    long timeoutMillis) {
        this.store = store;
        this.config = config;
        NexusConfig.Limits l = config.limits();
        ProtocolLimits limits = new ProtocolLimits(l.maxEventTags(), l.maxContentLength(), l.maxFilters(), l.maxSubidLength(), l.maxFilterValues());
        NexusConfig.Retention r = config.retention();
        RetentionPolicy retention = new RetentionPolicy(config.marketplace().kinds(), r.jobRequestSeconds(), r.jobResultSeconds(), r.jobFeedbackSeconds());
        this.signer = signer;
        this.down = new PeerFetch(store, verifier, config, limits, retention, afterStored, subscriptionIds);
        this.up = new PeerPublish(store);
        this.http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();
        this.timeoutMillis = timeoutMillis;
    }

    /** One sync with the peer at {@code url}: reconcile, then move what differs as {@code direction} says. */
    public SyncStats sync(String url, Filter filter, SyncDirection direction) throws SyncException, InterruptedException {
        long start = System.nanoTime();
        SyncStats stats = new SyncStats(url, direction);
        PeerLimits peer = PeerLimits.fetch(http, url);
        try (PeerConnection c = PeerConnection.open(http, url, signer, timeoutMillis)) {
            try {
                List<byte[]> have = new ArrayList<>(), need = new ArrayList<>();
                reconcile(c, peer, filter, stats, have, need, 0);
                stats.have = have.size();
                stats.need = need.size();
                stats.reconcileBytesSent = c.bytesSent();
                stats.reconcileBytesReceived = c.bytesReceived();
                if (direction != SyncDirection.UP) down.fetch(c, peer, need, stats);
                if (direction != SyncDirection.DOWN) up.publish(c, have, stats);
            } finally {
                stats.bytesSent = c.bytesSent();
                stats.bytesReceived = c.bytesReceived();
                stats.authenticated = c.authenticated();
                stats.elapsedNanos = System.nanoTime() - start;
            }
        }
        return stats;
    }

    // ------------------------------------------------------------------ reconciliation

    private void reconcile(PeerConnection c, PeerLimits peer, Filter filter, SyncStats stats, List<byte[]> have, List<byte[]> need, int depth)
            throws SyncException, InterruptedException {
        long now = System.currentTimeMillis() / 1000;
        int maxLocal = Math.max(1, config.limits().maxNegentropyEvents() > 0 ? config.limits().maxNegentropyEvents() : 500_000);
        VectorStorage.Builder items = VectorStorage.builder();
        int seen = store.scanIdsAscending(filter, now, maxLocal + 1, (createdAt, id) -> {
            if (items.size() < maxLocal) items.add(createdAt, Hex.decode(id));
        });
        VectorStorage storage = items.build();
        if (seen > maxLocal) {
            // The items are the oldest maxLocal: splitting at the newest of them leaves at most that many below.
            split(c, peer, filter, stats, have, need, depth, storage.timestamp(storage.size() - 1),
                    "this relay holds more than " + maxLocal + " events for the filter");
            return;
        }
        if (peer.maxNegentropyEvents() > 0 && storage.size() > peer.maxNegentropyEvents() && storage.size() >= 2) {
            // The peer advertises (NIP-11) that it refuses larger sets: it very likely holds as many, so split before asking.
            split(c, peer, filter, stats, have, need, depth, storage.timestamp(storage.size() / 2),
                    "the peer's max_negentropy_events is " + peer.maxNegentropyEvents());
            return;
        }
        boolean retriedAfterAuth = false;
        while (true) {
            String subId = "neg-" + subscriptionIds.incrementAndGet();
            Negentropy initiator = new Negentropy(storage, peer.negentropyFrameLimit());
            stats.reconciliations++;
            c.send("[\"NEG-OPEN\",\"" + subId + "\"," + FilterJson.write(filter) + ",\"" + Hex.encode(initiator.initiate()) + "\"]");
            List<byte[]> foundHave = new ArrayList<>(), foundNeed = new ArrayList<>();
            String refusal = null;
            while (true) {
                JsonNode m = c.next();
                String verb = m.path(0).asText();
                if (!m.path(1).asText().equals(subId) || !(verb.equals("NEG-MSG") || verb.equals("NEG-ERR"))) continue; // stale
                stats.roundTrips++;
                if (verb.equals("NEG-ERR")) {
                    refusal = m.path(2).asText();
                    break;
                }
                Negentropy.Reconciliation r;
                try {
                    r = initiator.reconcile(Hex.decode(m.path(2).asText()));
                } catch (NegentropyException | IllegalArgumentException e) {
                    c.send("[\"NEG-CLOSE\",\"" + subId + "\"]");
                    throw new SyncException("the peer sent an invalid negentropy message: " + e.getMessage(), e);
                }
                foundHave.addAll(r.have());
                foundNeed.addAll(r.need());
                if (r.done()) {
                    c.send("[\"NEG-CLOSE\",\"" + subId + "\"]");
                    break;
                }
                c.send("[\"NEG-MSG\",\"" + subId + "\",\"" + Hex.encode(r.nextMessage()) + "\"]");
            }
            if (refusal == null) {
                have.addAll(foundHave);
                need.addAll(foundNeed);
                return;
            }
            if (refusal.startsWith("auth-required:") && !retriedAfterAuth && !c.authenticated()) {
                c.authenticate();
                retriedAfterAuth = true;
                continue;
            }
            if (refusal.startsWith("blocked:") && (refusal.contains("more than") || refusal.contains("too many"))) {
                // Federating relays hold much the same events: this side's median time halves the peer's set too.
                Long median = storage.size() >= 2 ? storage.timestamp(storage.size() / 2) : null;
                split(c, peer, filter, stats, have, need, depth, median, "the peer: " + refusal);
                return;
            }
            throw new SyncException("the peer refused NEG-OPEN: " + refusal);
        }
    }

    /** Reconciles the filter's time range in two parts, at {@code pivot} when it lies inside the range, else in the middle. */
    private void split(PeerConnection c, PeerLimits peer, Filter filter, SyncStats stats, List<byte[]> have, List<byte[]> need, int depth,
                       Long pivot, String why) throws SyncException, InterruptedException {
        long lo = filter.since() != null ? filter.since() : 0;
        long hi = filter.until() != null ? filter.until() : System.currentTimeMillis() / 1000 + Math.max(86400, config.limits().createdAtUpperLimit());
        if (filter.limit() != null || depth >= MAX_SPLIT_DEPTH || hi <= lo) {
            throw new SyncException("the filter covers too many events (" + why + ") and cannot be split further; narrow it");
        }
        long mid = pivot != null && pivot >= lo && pivot < hi ? pivot : lo + (hi - lo) / 2;
        reconcile(c, peer, FilterJson.withTimes(filter, lo, mid), stats, have, need, depth + 1);
        reconcile(c, peer, FilterJson.withTimes(filter, mid + 1, hi), stats, have, need, depth + 1);
    }

}
