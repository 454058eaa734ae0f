package dev.nexus.storage;

import dev.nexus.core.Event;
import dev.nexus.core.Filter;
import dev.nexus.core.Kinds;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;

/**
 * An {@link EventStore} held in memory, for tests and embedders that need no durability: the same
 * {@link WriteRules} as the durable backends, over an in-memory {@link StoreTransaction}. Each write
 * completes at once; every method holds the store's lock, so it is safe from any thread but meant
 * for modest amounts of events (queries scan in (created_at desc, id asc) order).
 */
public final class InMemoryEventStore implements EventStore {
    private record Row(long handle, Event event, String dTag, Long expiresAt, byte[] json) {
        boolean unexpiredAt(long now) {
            return expiresAt == null || expiresAt > now;
        }
    }

    private static final Comparator<Row> NEWEST_FIRST = Comparator.<Row>comparingLong(r -> -r.event().createdAt())
            .thenComparing(r -> r.event().id());

    private final WriteRules rules;
    private final Map<String, Row> byId = new HashMap<>();
    private final TreeSet<Row> newestFirst = new TreeSet<>(NEWEST_FIRST);
    private final Set<String> tombstones = new HashSet<>();
    private final Map<String, Long> deletedAddresses = new HashMap<>();
    private final Set<Moderation.Entry> moderation = new LinkedHashSet<>();
    private final Set<String> bannedEventIds = new HashSet<>();
    private final StoreTransaction tx = new Transaction();
    private long nextHandle = 1;

    public InMemoryEventStore(RetentionPolicy retention) {
        this.rules = new WriteRules(retention);
    }

    @Override
    public synchronized CompletableFuture<WriteResult> write(Event event) {
        try {
            return CompletableFuture.completedFuture(rules.apply(tx, event));
        } catch (java.sql.SQLException impossible) {
            return CompletableFuture.completedFuture(WriteResult.error("could not store the event"));
        }
    }

    @Override
    public synchronized List<StoredEvent> query(Filter filter, int limit, long nowSeconds) {
        List<StoredEvent> out = new ArrayList<>();
        if (filter.matchesNothing() || limit <= 0) return out;
        for (Row r : newestFirst) {
            if (out.size() >= limit) break;
            if (r.unexpiredAt(nowSeconds) && filter.matches(r.event())) {
                out.add(new StoredEvent(r.event().id(), r.event().createdAt(), r.json()));
            }
        }
        return out;
    }

    @Override
    public synchronized long count(List<Filter> filters, long nowSeconds) {
        long n = 0;
        for (Row r : newestFirst) {
            if (!r.unexpiredAt(nowSeconds)) continue;
            for (Filter f : filters) {
                if (!f.matchesNothing() && f.matches(r.event())) {
                    n++;
                    break;
                }
            }
        }
        return n;
    }

    @Override
    public synchronized int scanIdsAscending(Filter filter, long nowSeconds, int maxItems, IdConsumer consumer) {
        if (filter.matchesNothing() || maxItems <= 0) return 0;
        int newest = filter.limit() == null ? Integer.MAX_VALUE : filter.limit();
        List<Row> matched = new ArrayList<>();
        for (Row r : newestFirst) {
            if (matched.size() >= newest) break;
            if (r.unexpiredAt(nowSeconds) && filter.matches(r.event())) matched.add(r);
        }
        matched.sort(Comparator.<Row>comparingLong(r -> r.event().createdAt()).thenComparing(r -> r.event().id()));
        int n = 0;
        for (Row r : matched) {
            if (n >= maxItems) break;
            consumer.accept(r.event().createdAt(), r.event().id());
            n++;
        }
        return n;
    }

    @Override
    public synchronized boolean contains(String id) {
        return byId.containsKey(id);
    }

    @Override
    public synchronized int deleteExpired(long nowSeconds, int batch) {
        List<Row> doomed = new ArrayList<>();
        for (Row r : newestFirst) {
            if (doomed.size() >= batch) break;
            if (!r.unexpiredAt(nowSeconds)) doomed.add(r);
        }
        doomed.forEach(this::remove);
        return doomed.size();
    }

    @Override
    public synchronized List<Moderation.Entry> moderation() {
        return List.copyOf(moderation);
    }

    @Override
    public synchronized CompletableFuture<Void> moderate(Moderation.Change change, Moderation.Entry entry) {
        if (change == Moderation.Change.SET) moderation.removeIf(e -> e.category().equals(entry.category()));
        moderation.removeIf(e -> e.category().equals(entry.category()) && e.value().equals(entry.value()));
        if (change != Moderation.Change.REMOVE) {
            moderation.add(new Moderation.Entry(entry.category(), entry.value(), entry.reason() == null ? "" : entry.reason()));
        }
        if (entry.category().equals(Moderation.BANNED_EVENT)) {
            if (change == Moderation.Change.REMOVE) {
                bannedEventIds.remove(entry.value());
            } else {
                bannedEventIds.add(entry.value());
                Row banned = byId.get(entry.value());
                if (banned != null) remove(banned);
            }
        }
        return CompletableFuture.completedFuture(null);
    }

    @Override
    public void close() {
    }

    private void remove(Row r) {
        byId.remove(r.event().id());
        newestFirst.remove(r);
    }

    private static String address(int kind, String pubkey, String dTag) {
        return kind + ":" + pubkey + ":" + dTag;
    }

    /** Runs under the store's lock (called only from {@link #write}). */
    private final class Transaction implements StoreTransaction {
        @Override
        public boolean isBanned(String id) {
            return bannedEventIds.contains(id);
        }

        @Override
        public boolean contains(String id) {
            return byId.containsKey(id);
        }

        @Override
        public boolean isTombstoned(String id, String pubkey) {
            return tombstones.contains(id + ':' + pubkey);
        }

        @Override
        public Long addressDeletedUntil(int kind, String pubkey, String dTag) {
            return deletedAddresses.get(address(kind, pubkey, dTag));
        }

        @Override
        public List<Version> versions(String pubkey, int kind, String dTag) {
            List<Version> out = new ArrayList<>(1);
            for (Row r : byId.values()) {
                Event e = r.event();
                if (e.kind() == kind && e.pubkey().equals(pubkey) && dTag.equals(r.dTag())) {
                    out.add(new Version(r.handle(), e.id(), e.createdAt()));
                }
            }
            return out;
        }

        @Override
        public void delete(Version version) {
            Row r = byId.get(version.id());
            if (r != null) remove(r);
        }

        @Override
        public boolean insert(Event e, String dTag, Long expiresAt) {
            if (byId.containsKey(e.id())) return false;
            Row r = new Row(nextHandle++, e, dTag, expiresAt, e.json().getBytes(StandardCharsets.UTF_8));
            byId.put(e.id(), r);
            newestFirst.add(r);
            return true;
        }

        @Override
        public void deleteOwnEvent(String id, String pubkey) {
            Row r = byId.get(id);
            if (r != null && r.event().pubkey().equals(pubkey) && r.event().kind() != Kinds.DELETION) remove(r);
        }

        @Override
        public void tombstone(String id, String pubkey) {
            tombstones.add(id + ':' + pubkey);
        }

        @Override
        public void deleteAddress(int kind, String pubkey, String dTag, long until) {
            for (Version v : versions(pubkey, kind, dTag)) {
                if (v.createdAt() <= until) delete(v);
            }
            deletedAddresses.merge(address(kind, pubkey, dTag), until, Math::max);
        }
    }
}
