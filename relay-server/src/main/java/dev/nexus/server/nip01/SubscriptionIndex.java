package dev.nexus.server.nip01;

import dev.nexus.core.Event;
import dev.nexus.core.Filter;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;

/**
 * Live subscriptions in an inverted index, so that a new event meets only the subscriptions that
 * could match it instead of all of them. Each filter is filed under its most selective field
 * (ids, then authors, then one tag, then kinds); a filter with none of those goes to the
 * catch-all set. Candidates are then confirmed with the full filter match.
 */
public final class SubscriptionIndex {
    private final Map<String, Set<Subscription>> byId = new ConcurrentHashMap<>();
    private final Map<String, Set<Subscription>> byAuthor = new ConcurrentHashMap<>();
    private final Map<String, Set<Subscription>> byTag = new ConcurrentHashMap<>();
    private final Map<Integer, Set<Subscription>> byKind = new ConcurrentHashMap<>();
    private final Set<Subscription> catchAll = ConcurrentHashMap.newKeySet();

    private final Set<Subscription> counted = ConcurrentHashMap.newKeySet();
    private final java.util.concurrent.atomic.AtomicLong subscriptions = new java.util.concurrent.atomic.AtomicLong();
    private final java.util.concurrent.atomic.AtomicLong filterValues = new java.util.concurrent.atomic.AtomicLong();
    private final long maxSubscriptions;
    private final long maxFilterValues;

    public SubscriptionIndex() {
        this(Long.MAX_VALUE, Long.MAX_VALUE);
    }

    /** Bounded relay-wide: at most {@code maxSubscriptions} live subscriptions holding at most {@code maxFilterValues} filter values. */
    public SubscriptionIndex(long maxSubscriptions, long maxFilterValues) {
        this.maxSubscriptions = maxSubscriptions;
        this.maxFilterValues = maxFilterValues;
    }

    /** Files the subscription; false (and nothing filed) when the relay-wide bounds are reached. */
    public boolean tryAdd(Subscription sub) {
        long values = valueCount(sub);
        if (subscriptions.incrementAndGet() > maxSubscriptions | filterValues.addAndGet(values) > maxFilterValues) {
            subscriptions.decrementAndGet();
            filterValues.addAndGet(-values);
            return false;
        }
        counted.add(sub);
        for (Filter f : sub.filters()) file(sub, f, true);
        return true;
    }

    public void remove(Subscription sub) {
        if (!counted.remove(sub)) return;
        subscriptions.decrementAndGet();
        filterValues.addAndGet(-valueCount(sub));
        for (Filter f : sub.filters()) file(sub, f, false);
    }

    private static long valueCount(Subscription sub) {
        long n = 0;
        for (Filter f : sub.filters()) {
            n += 1;
            if (f.ids() != null) n += f.ids().size();
            if (f.authors() != null) n += f.authors().size();
            if (f.kinds() != null) n += f.kinds().size();
            for (Set<String> values : f.tags().values()) n += values.size();
        }
        return n;
    }

    private void file(Subscription sub, Filter f, boolean add) {
        if (f.matchesNothing()) return;
        if (f.ids() != null) {
            for (String id : f.ids()) update(byId, id, sub, add);
        } else if (f.authors() != null) {
            for (String a : f.authors()) update(byAuthor, a, sub, add);
        } else if (!f.tags().isEmpty()) {
            Map.Entry<String, Set<String>> tag = f.tags().entrySet().iterator().next();
            for (String v : tag.getValue()) update(byTag, tagKey(tag.getKey(), v), sub, add);
        } else if (f.kinds() != null) {
            for (int k : f.kinds()) update(byKind, k, sub, add);
        } else if (add) {
            catchAll.add(sub);
        } else {
            catchAll.remove(sub);
        }
    }

    private static <K> void update(Map<K, Set<Subscription>> map, K key, Subscription sub, boolean add) {
        if (add) {
            map.computeIfAbsent(key, k -> ConcurrentHashMap.newKeySet()).add(sub);
        } else {
            map.computeIfPresent(key, (k, set) -> {
                set.remove(sub);
                return set.isEmpty() ? null : set;
            });
        }
    }

    private static String tagKey(String name, String value) {
        return name + ':' + value;
    }

    /** Calls {@code action} once for every subscription that matches {@code e}. */
    public void forEachMatch(Event e, Consumer<Subscription> action) {
        Set<Subscription> seen = new HashSet<>();
        visit(byId.get(e.id()), e, seen, action);
        visit(byAuthor.get(e.pubkey()), e, seen, action);
        for (List<String> tag : e.tags()) {
            if (tag.size() >= 2 && tag.get(0).length() == 1) visit(byTag.get(tagKey(tag.get(0), tag.get(1))), e, seen, action);
        }
        visit(byKind.get(e.kind()), e, seen, action);
        visit(catchAll, e, seen, action);
    }

    private static void visit(Set<Subscription> candidates, Event e, Set<Subscription> seen, Consumer<Subscription> action) {
        if (candidates == null) return;
        for (Subscription s : candidates) {
            if (seen.add(s) && s.matches(e)) action.accept(s);
        }
    }

    /** Live subscriptions now (cheap: the relay-wide bound's count). */
    public long live() {
        return subscriptions.get();
    }

    public int size() {
        Set<Subscription> all = new HashSet<>(catchAll);
        byId.values().forEach(all::addAll);
        byAuthor.values().forEach(all::addAll);
        byTag.values().forEach(all::addAll);
        byKind.values().forEach(all::addAll);
        return all.size();
    }
}
