package dev.nexus.server.sync;

import com.fasterxml.jackson.databind.JsonNode;
import dev.nexus.core.Filter;
import dev.nexus.core.Hex;
import dev.nexus.storage.EventStore;
import dev.nexus.storage.StoredEvent;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The up direction of a sync: publishes what the peer lacks, oldest first, a few EVENTs in flight,
 * each waiting for its OK; authenticates once when asked and retries rate-limited events a few times.
 */
final class PeerPublish {
    private static final int PUBLISH_WINDOW = 32;
    private static final int RATE_LIMIT_RETRIES = 5;

    private final EventStore store;

    PeerPublish(EventStore store) {
        this.store = store;
    }

    void publish(PeerConnection c, List<byte[]> have, SyncStats stats) throws SyncException, InterruptedException {
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
