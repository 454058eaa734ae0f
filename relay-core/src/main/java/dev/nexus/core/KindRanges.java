package dev.nexus.core;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * An immutable set of event kinds written the way operators write them in config: single kinds
 * ({@code "68001"}) and inclusive ranges ({@code "5000-5999"}).
 */
public final class KindRanges {
    /** An inclusive range of kinds; a single kind has {@code from == to}. */
    public record Range(int from, int to) {
        public boolean contains(int kind) {
            return kind >= from && kind <= to;
        }

        @Override
        public String toString() {
            return from == to ? Integer.toString(from) : from + "-" + to;
        }
    }

    public static final KindRanges NONE = new KindRanges(List.of());

    private final List<Range> ranges;
    /** The same ranges as arrays: {@link #contains} runs for every event on several paths, and a list iterator is an allocation per call under C1. */
    private final int[] froms, tos;

    private KindRanges(List<Range> ranges) {
        this.ranges = List.copyOf(ranges);
        this.froms = ranges.stream().mapToInt(Range::from).toArray();
        this.tos = ranges.stream().mapToInt(Range::to).toArray();
    }

    /**
     * Parses {@code "N"} and {@code "N-M"} entries.
     *
     * @throws IllegalArgumentException naming the first entry that is not a kind or an ascending range of kinds
     */
    public static KindRanges parse(List<String> specs) {
        List<Range> out = new ArrayList<>(specs.size());
        for (String spec : specs) {
            String s = spec.trim();
            int dash = s.indexOf('-', 1);
            int from = kind(dash < 0 ? s : s.substring(0, dash).trim(), spec);
            int to = dash < 0 ? from : kind(s.substring(dash + 1).trim(), spec);
            if (to < from) throw new IllegalArgumentException("\"" + spec + "\" is a descending range");
            out.add(new Range(from, to));
        }
        out.sort(Comparator.comparingInt(Range::from));
        return new KindRanges(out);
    }

    public static KindRanges of(String... specs) {
        return parse(List.of(specs));
    }

    private static int kind(String s, String spec) {
        long k;
        try {
            k = Long.parseLong(s);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("\"" + spec + "\" is not a kind or a range of kinds like \"5000-5999\"");
        }
        if (!Kinds.isValid(k)) throw new IllegalArgumentException("\"" + spec + "\": kinds are between 0 and " + Kinds.MAX);
        return (int) k;
    }

    public boolean contains(int kind) {
        for (int i = 0; i < froms.length; i++) {
            if (kind >= froms[i] && kind <= tos[i]) return true;
        }
        return false;
    }

    public boolean isEmpty() {
        return ranges.isEmpty();
    }

    public List<Range> ranges() {
        return ranges;
    }

    /** The entries as they would be written in config, e.g. {@code ["5000-5999", "68001"]}. */
    public List<String> specs() {
        return ranges.stream().map(Range::toString).toList();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof KindRanges k && k.ranges.equals(ranges);
    }

    @Override
    public int hashCode() {
        return ranges.hashCode();
    }

    @Override
    public String toString() {
        return specs().toString();
    }
}
