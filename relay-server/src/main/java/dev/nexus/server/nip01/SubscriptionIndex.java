package dev.nexus.server.nip01;

import dev.nexus.core.Event;
import dev.nexus.core.Filter;
import java.util.Collections;
import java.util.HashSet;
import java.util.IdentityHashMap;
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
 *
 * <p>Most subscriptions can meet an event through one key only (one filter, and not several values
 * of the tag it is filed under: every W2 subscriber, a follow list, most agents' REQs), so only the
 * others are remembered while one event is matched. Remembering every candidate cost the fan-out
 * thread a hash set of all of them per event, about a sixth of its time in the W2 profile.
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
        sub.mayMeetAnEventTwice(mayMeetAnEventTwice(sub));
        sub.filedUnderItsTag(filedUnderItsOnlyFiltersFirstTag(sub));
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

    /**
     * Whether one event can reach this subscription through two keys: it has several filters that
     * are filed, or its one filter is filed under several values of a tag (an event can carry
     * several of them). An event has one id, one author and one kind, so several ids, authors or
     * kinds in one filter (a follow list) cannot.
     */
    private static boolean mayMeetAnEventTwice(Subscription sub) {
        int filed = 0;
        for (Filter f : sub.filters()) {
            if (f.matchesNothing()) continue;
            filed++;
            if (filedUnderItsFirstTag(f) && f.firstTagValues().size() > 1) return true;
        }
        return filed > 1;
    }

    /** Whether {@link #file} files this filter under its first tag constraint's values (it has no ids nor authors). */
    private static boolean filedUnderItsFirstTag(Filter f) {
        return !f.matchesNothing() && f.ids() == null && f.authors() == null && f.firstTagName() != null;
    }

    /**
     * Whether the subscription is one filter filed under its first tag constraint, so that an event
     * found through that tag's key needs no second look at it. The keys join a one-letter name and
     * the value, so only a one-letter name makes the key say which constraint was met.
     */
    private static boolean filedUnderItsOnlyFiltersFirstTag(Subscription sub) {
        if (sub.filters().size() != 1) return false;
        Filter f = sub.filters().get(0);
        return filedUnderItsFirstTag(f) && f.firstTagName().length() == 1;
    }

    private void file(Subscription sub, Filter f, boolean add) {
        if (f.matchesNothing()) return;
        if (f.ids() != null) {
            for (String id : f.ids()) update(byId, id, sub, add);
        } else if (f.authors() != null) {
            for (String a : f.authors()) update(byAuthor, a, sub, add);
        } else if (f.firstTagName() != null) {
            for (String v : f.firstTagValues()) update(byTag, tagKey(f.firstTagName(), v), sub, add);
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
            // Added under the key's lock: a removal that empties the set unlinks it under the same
            // lock, so an add outside it could land in a set no event will look up again.
            map.compute(key, (k, set) -> {
                Set<Subscription> to = set == null ? ConcurrentHashMap.newKeySet() : set;
                to.add(sub);
                return to;
            });
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
        Visit visit = new Visit(e, action);
        visit.all(byId.get(e.id()));
        visit.all(byAuthor.get(e.pubkey()));
        for (List<String> tag : e.tags()) {
            if (tag.size() >= 2 && tag.get(0).length() == 1) visit.tagSet(byTag.get(tagKey(tag.get(0), tag.get(1))));
        }
        visit.all(byKind.get(e.kind()));
        visit.all(catchAll);
    }

    /** One event's walk through its candidate sets. */
    private static final class Visit {
        private final Event event;
        private final Consumer<Subscription> action;
        /** Subscriptions that may meet this event twice, already met; made on the first one. */
        private Set<Subscription> seen;
        /** The first tag key's candidates, then all of them once a second is met: an event may repeat a tag. */
        private Set<Subscription> firstTagSet;
        private Set<Set<Subscription>> tagSets;

        Visit(Event event, Consumer<Subscription> action) {
            this.event = event;
            this.action = action;
        }

        void all(Set<Subscription> candidates) {
            if (candidates != null) walk(candidates, false);
        }

        /** {@code underTheEventsTag}: the candidates were found under a tag key the event carries. */
        private void walk(Set<Subscription> candidates, boolean underTheEventsTag) {
            for (Subscription s : candidates) {
                if (s.mayMeetAnEventTwice() && !firstMeeting(s)) continue;
                boolean tagMet = underTheEventsTag && s.filedUnderItsTag();
                if (tagMet ? s.filters().get(0).matchesGivenFirstTag(event) : s.matches(event)) action.accept(s);
            }
        }

        /** Candidates under one of the event's tag keys; a key the event repeats is walked once. */
        void tagSet(Set<Subscription> candidates) {
            if (candidates == null) return;
            if (firstTagSet == null) {
                firstTagSet = candidates;
            } else {
                if (candidates == firstTagSet) return;
                if (tagSets == null) tagSets = Collections.newSetFromMap(new IdentityHashMap<>());
                if (!tagSets.add(candidates)) return;
            }
            walk(candidates, true);
        }

        private boolean firstMeeting(Subscription s) {
            if (seen == null) seen = Collections.newSetFromMap(new IdentityHashMap<>());
            return seen.add(s);
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
