package dev.nexus.server.dashboard;

import java.util.Arrays;

/** The last {@code capacity} timings, in a ring. */
final class Samples {
    private final double[] ring;
    private int count;
    private int next;

    Samples(int capacity) {
        ring = new double[capacity];
    }

    void add(double seconds) {
        ring[next] = seconds;
        next = (next + 1) % ring.length;
        if (count < ring.length) count++;
    }

    MarketplaceBoard.Latency latency() {
        if (count == 0) return new MarketplaceBoard.Latency(null, null, 0);
        double[] sorted = Arrays.copyOf(ring, count);
        Arrays.sort(sorted);
        return new MarketplaceBoard.Latency(nearestRank(sorted, 0.5), nearestRank(sorted, 0.95), count);
    }

    /** The smallest sample with at least {@code q} of the samples at or below it. */
    static double nearestRank(double[] sorted, double q) {
        int rank = (int) Math.ceil(q * sorted.length);
        return sorted[Math.max(0, rank - 1)];
    }
}
