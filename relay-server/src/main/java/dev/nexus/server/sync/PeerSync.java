package dev.nexus.server.sync;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.core.JsonParser;
import dev.nexus.config.NexusConfig;
import dev.nexus.config.NexusConfig.SyncDirection;
import dev.nexus.core.Event;
import dev.nexus.core.EventJson;
import dev.nexus.core.Filter;
import dev.nexus.core.Hex;
import dev.nexus.core.Kinds;
import dev.nexus.core.ProtocolLimits;
import dev.nexus.core.SignatureVerifier;
import dev.nexus.core.nip77.Negentropy;
import dev.nexus.core.nip77.NegentropyException;
import dev.nexus.core.nip77.VectorStorage;
import dev.nexus.storage.EventStore;
import dev.nexus.storage.RetentionPolicy;
import dev.nexus.storage.StoredEvent;
import dev.nexus.storage.WriteResult;
import java.net.http.HttpClient;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;

/**
 * NIP-77 federation, initiator side: reconciles the events of this relay's store matching a filter
 * with a peer's, then fetches what this side lacks (REQ by ids, in batches) and/or publishes what
 * the peer lacks (EVENT, a few in flight, each waiting for its OK).
 *
 * <p>Fetched events go through the checks the relay applies to published events that make sense
 * for relayed ones (see {@link #refusal}) and then the store's write path (replaceable and
 * addressable rules, NIP-09 deletions); {@code afterStored} hears of each newly stored event (the
 * running relay feeds its live subscribers from it). When the peer refuses a filter as covering
 * too many events ({@code blocked:} with max_negentropy_events), or this side holds more than its
 * own maximum, the time range is halved and each half reconciled on its own.
 */
public final class PeerSync {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int PUBLISH_WINDOW = 32;
    private static final int MAX_SPLIT_DEPTH = 40;
    private static final int RATE_LIMIT_RETRIES = 5;

    private final EventStore store;
    private final SignatureVerifier verifier;
    private final NexusConfig config;
    private final ProtocolLimits limits;
    private final RetentionPolicy retention;
    private final EventSigner signer;
    private final Consumer<Event> afterStored;
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
        this.verifier = verifier;
        this.config = config;
        NexusConfig.Limits l = config.limits();
        this.limits = new ProtocolLimits(l.maxEventTags(), l.maxContentLength(), l.maxFilters(), l.maxSubidLength(), l.maxFilterValues());
        NexusConfig.Retention r = config.retention();
        this.retention = new RetentionPolicy(config.marketplace().kinds(), r.jobRequestSeconds(), r.jobResultSeconds(), r.jobFeedbackSeconds());
        this.signer = signer;
        this.afterStored = afterStored;
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
                if (direction != SyncDirection.UP) fetch(c, peer, need, stats);
                if (direction != SyncDirection.DOWN) publish(c, have, stats);
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

    // ------------------------------------------------------------------ down

    private void fetch(PeerConnection c, PeerLimits peer, List<byte[]> need, SyncStats stats) throws SyncException, InterruptedException {
        int batch = peer.fetchBatch();
        for (int from = 0; from < need.size(); from += batch) {
            Set<String> wanted = new HashSet<>();
            for (byte[] id : need.subList(from, Math.min(need.size(), from + batch))) wanted.add(Hex.encode(id));
            fetchBatch(c, wanted, stats);
        }
    }

    private void fetchBatch(PeerConnection c, Set<String> wanted, SyncStats stats) throws SyncException, InterruptedException {
        Filter byIds = new Filter(wanted, null, null, null, null, null, null);
        boolean retriedAfterAuth = false;
        Set<String> received = new HashSet<>();
        List<CompletableFuture<Void>> writes = new ArrayList<>();
        while (true) {
            String subId = "get-" + subscriptionIds.incrementAndGet();
            c.send("[\"REQ\",\"" + subId + "\"," + FilterJson.write(byIds) + "]");
            String closed = null;
            while (true) {
                JsonNode m = c.next();
                if (!m.path(1).asText().equals(subId)) continue;
                String verb = m.path(0).asText();
                if (verb.equals("EOSE")) break;
                if (verb.equals("CLOSED")) {
                    closed = m.path(2).asText();
                    break;
                }
                if (verb.equals("EVENT")) {
                    CompletableFuture<Void> write = receive(m.path(2), wanted, received, stats);
                    if (write != null) writes.add(write);
                }
            }
            if (closed == null) {
                c.send("[\"CLOSE\",\"" + subId + "\"]");
                break;
            }
            if (closed.startsWith("auth-required:") && !retriedAfterAuth && !c.authenticated()) {
                c.authenticate();
                retriedAfterAuth = true;
                continue;
            }
            throw new SyncException("the peer refused to serve events: " + closed);
        }
        for (CompletableFuture<Void> w : writes) w.join();
        synchronized (stats) {
            stats.unavailable += wanted.size() - received.size();
        }
    }

    /** Checks one fetched event and hands it to the store; returns the write, or null when refused here. */
    private CompletableFuture<Void> receive(JsonNode json, Set<String> wanted, Set<String> received, SyncStats stats) {
        Event e;
        try (JsonParser p = JSON.treeAsTokens(json)) {
            p.nextToken();
            e = EventJson.parse(p, limits);
        } catch (Exception ex) {
            countInvalid(stats);
            return null;
        }
        if (!wanted.contains(e.id()) || !received.add(e.id())) {
            countInvalid(stats); // not what was asked for: a peer that answers ids with other events is not to be trusted with them
            return null;
        }
        if (refusal(e) != null) {
            synchronized (stats) {
                stats.fetchRefused++;
            }
            return null;
        }
        if (!verifier.verify(e)) {
            countInvalid(stats);
            return null;
        }
        return store.write(e).handle((result, error) -> {
            synchronized (stats) {
                if (error != null) stats.fetchInvalid++; // the store failed: counted with what could not be taken
                else if (result.message().startsWith("duplicate:")) stats.fetchedDuplicate++;
                else if (result.accepted()) stats.fetched++;
                else stats.fetchRefused++;
            }
            if (error == null && result.accepted() && !result.alreadyStored()) afterStored.accept(e);
            return null;
        });
    }

    /** The store's writer thread counts the outcomes of writes at the same time. */
    private static void countInvalid(SyncStats stats) {
        synchronized (stats) {
            stats.fetchInvalid++;
        }
    }

    /**
     * The relay's own publishing rules that apply to an event relayed from a peer, or null when it
     * may be stored. Not applied: rate limits and marketplace shape checks (a peer's events were
     * published by their authors elsewhere, and this relay only asked for them).
     */
    String refusal(Event e) {
        long now = System.currentTimeMillis() / 1000;
        NexusConfig.Auth a = config.auth();
        if (e.kind() == Kinds.AUTH) return "invalid: AUTH events are not stored";
        if (Kinds.isEphemeral(e.kind())) return "invalid: ephemeral events are not stored";
        if (e.hasTag("-")) return "restricted: protected events (NIP-70) are stored only when their author publishes them";
        if (a.deniedPubkeys().contains(e.pubkey())) return "blocked: this pubkey may not publish here";
        if (!a.allowedPubkeys().isEmpty() && !a.allowedPubkeys().contains(e.pubkey())) return "restricted: author not on the allow list";
        NexusConfig.Limits l = config.limits();
        if (l.createdAtUpperLimit() > 0 && e.createdAt() > now + l.createdAtUpperLimit()) return "invalid: created_at is too far in the future";
        if (l.createdAtLowerLimit() > 0 && e.createdAt() < now - l.createdAtLowerLimit()) return "invalid: created_at is too far in the past";
        Long expiration = e.expiration();
        if (expiration != null && expiration <= now) return "invalid: expired (NIP-40)";
        Long expiresAt = retention.expiresAt(e);
        if (expiresAt != null && expiresAt <= now) return "invalid: past this relay's retention for its kind";
        return null;
    }

    // ------------------------------------------------------------------ up

    private void publish(PeerConnection c, List<byte[]> have, SyncStats stats) throws SyncException, InterruptedException {
        int batch = 500;
        for (int from = 0; from < have.size(); from += batch) {
            Set<String> ids = new HashSet<>();
            for (byte[] id : have.subList(from, Math.min(have.size(), from + batch))) ids.add(Hex.encode(id));
            List<StoredEvent> events = store.query(new Filter(ids, null, null, null, null, null, null), ids.size(), System.currentTimeMillis() / 1000);
            // Oldest first, so that a replaceable event's newer version arrives after the one it replaces.
            events = new ArrayList<>(events);
            events.sort(java.util.Comparator.comparingLong(StoredEvent::createdAt).thenComparing(StoredEvent::id));
            publishAll(c, events, stats);
        }
    }

    private void publishAll(PeerConnection c, List<StoredEvent> events, SyncStats stats) throws SyncException, InterruptedException {
        ArrayDeque<StoredEvent> pending = new ArrayDeque<>(events);
        Map<String, StoredEvent> inFlight = new LinkedHashMap<>();
        Map<String, Integer> attempts = new java.util.HashMap<>();
        Set<String> resentAfterAuth = new HashSet<>();
        while (!pending.isEmpty() || !inFlight.isEmpty()) {
            while (!pending.isEmpty() && inFlight.size() < PUBLISH_WINDOW) {
                StoredEvent e = pending.poll();
                inFlight.put(e.id(), e);
                c.send("[\"EVENT\"," + e.jsonText() + "]");
            }
            JsonNode m = c.next();
            if (!m.path(0).asText().equals("OK")) continue;
            StoredEvent e = inFlight.remove(m.path(1).asText());
            if (e == null) continue;
            String message = m.path(3).asText();
            if (m.path(2).asBoolean()) {
                stats.published++;
            } else if (message.startsWith("auth-required:") && resentAfterAuth.add(e.id())) {
                // Every event in flight gets this answer; the first one authenticates, all are sent again once.
                if (!c.authenticated()) c.authenticate();
                pending.addFirst(e);
            } else if (message.startsWith("rate-limited:") && attempts.merge(e.id(), 1, Integer::sum) <= RATE_LIMIT_RETRIES) {
                Thread.sleep(1000L * attempts.get(e.id()));
                pending.addFirst(e);
            } else if (message.startsWith("auth-required:") || message.startsWith("rate-limited:") || message.startsWith("error:")
                    || message.isEmpty()) {
                stats.publishFailed++;
            } else {
                stats.publishRefused++; // the peer's rules (blocked:, restricted:, invalid:, pow:, duplicate: refusals)
            }
        }
    }
}
