package dev.nexus.core;

import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * One NIP-01 filter. A null field places no constraint; an empty set matches nothing. Tag
 * constraints are keyed by the single-letter tag name ("e", "p", "k", ...).
 */
public final class Filter {
    private final Set<String> ids;
    private final Set<String> authors;
    private final Set<Integer> kinds;
    private final Map<String, Set<String>> tags;
    private final Long since;
    private final Long until;
    private final Integer limit;
    /** {@link #kinds} unboxed and sorted: a live event is matched against every candidate subscription's kinds. */
    private final int[] kindValues;
    /** {@link #tags} in its iteration order, as arrays: the live fan-out walks them for every candidate. */
    private final String[] tagNames;
    private final Set<String>[] tagValues;

    public Filter(Set<String> ids, Set<String> authors, Set<Integer> kinds, Map<String, Set<String>> tags,
                  Long since, Long until, Integer limit) {
        this.ids = ids == null ? null : Collections.unmodifiableSet(ids);
        this.authors = authors == null ? null : Collections.unmodifiableSet(authors);
        this.kinds = kinds == null ? null : Collections.unmodifiableSet(kinds);
        this.tags = tags == null ? Map.of() : Collections.unmodifiableMap(tags);
        this.since = since;
        this.until = until;
        this.limit = limit;
        this.kindValues = kinds == null ? null : kinds.stream().mapToInt(Integer::intValue).sorted().toArray();
        this.tagNames = new String[this.tags.size()];
        @SuppressWarnings("unchecked")
        Set<String>[] values = new Set[this.tags.size()];
        int i = 0;
        for (Map.Entry<String, Set<String>> constraint : this.tags.entrySet()) {
            tagNames[i] = constraint.getKey();
            values[i++] = constraint.getValue();
        }
        this.tagValues = values;
    }

    public Set<String> ids() { return ids; }
    public Set<String> authors() { return authors; }
    public Set<Integer> kinds() { return kinds; }
    public Map<String, Set<String>> tags() { return tags; }
    public Long since() { return since; }
    public Long until() { return until; }
    public Integer limit() { return limit; }

    /** True when no stored or future event can match (an empty set, or since after until). */
    public boolean matchesNothing() {
        if (ids != null && ids.isEmpty()) return true;
        if (authors != null && authors.isEmpty()) return true;
        if (kinds != null && kinds.isEmpty()) return true;
        for (Set<String> values : tags.values()) if (values.isEmpty()) return true;
        return since != null && until != null && since > until;
    }

    public boolean matches(Event e) {
        return matchesFromTag(e, 0);
    }

    /** The name of the first tag constraint in {@link #tags}' order, or null when there is none. */
    public String firstTagName() {
        return tagNames.length == 0 ? null : tagNames[0];
    }

    /** The values of the first tag constraint in {@link #tags}' order, or null when there is none. */
    public Set<String> firstTagValues() {
        return tagNames.length == 0 ? null : tagValues[0];
    }

    /**
     * {@link #matches} for an event already known to carry one of {@link #firstTagValues()} under
     * {@link #firstTagName()}: the live index found the filter through that tag, and checking it
     * again was most of the W2 fan-out's per-subscriber work.
     */
    public boolean matchesGivenFirstTag(Event e) {
        return matchesFromTag(e, 1);
    }

    private boolean matchesFromTag(Event e, int firstTagToCheck) {
        if (ids != null && !ids.contains(e.id())) return false;
        if (authors != null && !authors.contains(e.pubkey())) return false;
        if (kindValues != null && java.util.Arrays.binarySearch(kindValues, e.kind()) < 0) return false;
        if (since != null && e.createdAt() < since) return false;
        if (until != null && e.createdAt() > until) return false;
        for (int i = firstTagToCheck; i < tagNames.length; i++) {
            if (!hasTagValueIn(e, tagNames[i], tagValues[i])) return false;
        }
        return true;
    }

    private static boolean hasTagValueIn(Event e, String name, Set<String> values) {
        for (List<String> tag : e.tags()) {
            if (tag.size() >= 2 && tag.get(0).equals(name) && values.contains(tag.get(1))) return true;
        }
        return false;
    }

    @Override
    public String toString() {
        return "Filter{ids=" + ids + ", authors=" + authors + ", kinds=" + kinds + ", tags=" + tags
                + ", since=" + since + ", until=" + until + ", limit=" + limit + '}';
    }
}
