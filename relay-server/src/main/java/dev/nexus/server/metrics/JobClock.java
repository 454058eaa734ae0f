package dev.nexus.server.metrics;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.LongSupplier;

/**
 * Times the marketplace as the relay sees it: when a job request was stored, when its first
 * feedback arrived and when its first result arrived. Pending requests are held in a bounded map,
 * oldest dropped first, so a flood of requests nobody answers cannot grow the relay's memory; a
 * reply to a request that was dropped (or was stored before the relay started) is simply not timed.
 */
final class JobClock {
    /** What a stopwatch reports: the request's kind and the seconds since the request was stored. */
    interface Lap {
        void record(int requestKind, double seconds);
    }

    private static final class Pending {
        final int kind;
        final long storedNanos;
        boolean feedbackSeen;

        Pending(int kind, long storedNanos) {
            this.kind = kind;
            this.storedNanos = storedNanos;
        }
    }

    private final int capacity;
    private final LongSupplier nanoClock;
    private final Lap toFirstFeedback;
    private final Lap toResult;
    private final Map<String, Pending> pending;

    JobClock(int capacity, LongSupplier nanoClock, Lap toFirstFeedback, Lap toResult) {
        this.capacity = capacity;
        this.nanoClock = nanoClock;
        this.toFirstFeedback = toFirstFeedback;
        this.toResult = toResult;
        this.pending = new LinkedHashMap<>(Math.min(capacity, 1024), 0.75f, false) {
            @Override
            protected boolean removeEldestEntry(Map.Entry<String, Pending> eldest) {
                return size() > JobClock.this.capacity;
            }
        };
    }

    /** A job request was stored; the first time only (a duplicate does not restart its clock). */
    synchronized void requested(String requestId, int kind) {
        pending.putIfAbsent(requestId, new Pending(kind, nanoClock.getAsLong()));
    }

    /** Feedback for a request: times the first one. */
    synchronized void feedback(String requestId) {
        Pending p = pending.get(requestId);
        if (p == null || p.feedbackSeen) return;
        p.feedbackSeen = true;
        toFirstFeedback.record(p.kind, seconds(p));
    }

    /** A result for a request: times the first one, after which the request is no longer pending. */
    synchronized void result(String requestId) {
        Pending p = pending.remove(requestId);
        if (p != null) toResult.record(p.kind, seconds(p));
    }

    synchronized int pendingCount() {
        return pending.size();
    }

    private double seconds(Pending p) {
        return (nanoClock.getAsLong() - p.storedNanos) / 1e9;
    }
}
