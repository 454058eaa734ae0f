package dev.nexus.server.sync;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.nexus.config.NexusConfig;
import dev.nexus.core.Event;
import dev.nexus.core.EventJson;
import dev.nexus.core.Filter;
import dev.nexus.core.Hex;
import dev.nexus.core.Kinds;
import dev.nexus.core.ProtocolLimits;
import dev.nexus.core.SignatureVerifier;
import dev.nexus.storage.EventStore;
import dev.nexus.storage.RetentionPolicy;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;

/**
 * The down direction of a sync: asks the peer for the events this side lacks (REQ by ids, in
 * batches), checks each as the relay checks relayed events ({@link #refusal}) and its signature,
 * and hands it to the store's write path; {@code afterStored} hears of each new one.
 */
final class PeerFetch {
    private static final ObjectMapper JSON = new ObjectMapper();

    private final EventStore store;
    private final SignatureVerifier verifier;
    private final NexusConfig config;
    private final ProtocolLimits limits;
    private final RetentionPolicy retention;
    private final Consumer<Event> afterStored;
    private final AtomicLong subscriptionIds;

    PeerFetch(EventStore store, SignatureVerifier verifier, NexusConfig config, ProtocolLimits limits, RetentionPolicy retention,
              Consumer<Event> afterStored, AtomicLong subscriptionIds) {
        this.store = store;
        this.verifier = verifier;
        this.config = config;
        this.limits = limits;
        this.retention = retention;
        this.afterStored = afterStored;
        this.subscriptionIds = subscriptionIds;
    }

    void fetch(PeerConnection c, PeerLimits peer, List<byte[]> need, SyncStats stats) throws SyncException, InterruptedException {
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
}
