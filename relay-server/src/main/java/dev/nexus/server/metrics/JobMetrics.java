package dev.nexus.server.metrics;

import dev.nexus.core.Event;
import dev.nexus.core.MarketplaceKinds;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * The job flow of the {@code [marketplace]} kinds: requests, results and feedback stored, by kind
 * and status, and the time from a request to its first feedback and to its first result
 * ({@link JobClock}). Labels are job kinds within the configured ranges and known statuses only.
 */
final class JobMetrics {
    /** Job requests waiting for their first feedback or result that the job clock remembers; the oldest go first. */
    static final int MAX_PENDING_JOBS = 100_000;
    private static final Set<String> FEEDBACK_STATUSES = Set.of("payment-required", "processing", "error", "success", "partial");
    private static final Duration[] JOB_BUCKETS = RelayMetrics.durations(0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 3600);

    private final MeterRegistry registry;
    private final MarketplaceKinds marketplace;
    private final Map<Integer, Counter> jobRequests = new ConcurrentHashMap<>();
    private final Map<Integer, Counter> jobResults = new ConcurrentHashMap<>();
    private final Map<String, Counter> jobFeedback = new ConcurrentHashMap<>();
    private final Map<Integer, Timer> toFirstFeedback = new ConcurrentHashMap<>();
    private final Map<Integer, Timer> toResult = new ConcurrentHashMap<>();
    private final JobClock jobClock;

    JobMetrics(MeterRegistry registry, MarketplaceKinds marketplace) {
        this.registry = registry;
        this.marketplace = marketplace;
        jobClock = new JobClock(MAX_PENDING_JOBS, System::nanoTime,
                (kind, s) -> jobTimer(toFirstFeedback, "nexus.job.first.feedback", "From a job request to its first feedback (kind 7000)", kind)
                        .record(RelayMetrics.nanos(s), TimeUnit.NANOSECONDS),
                (kind, s) -> jobTimer(toResult, "nexus.job.result", "From a job request to its first result", kind)
                        .record(RelayMetrics.nanos(s), TimeUnit.NANOSECONDS));
        Gauge.builder("nexus.jobs.pending", jobClock, JobClock::pendingCount)
                .description("Job requests seen without a result yet (bounded; the oldest are forgotten)").register(registry);
    }

    /** A stored event: counted and timed when it is job traffic, ignored otherwise. */
    void stored(Event e) {
        switch (marketplace.roleOf(e.kind())) {
            case JOB_REQUEST -> {
                jobRequests.computeIfAbsent(e.kind(), k -> Counter.builder("nexus.job.requests").tag("kind", String.valueOf(k))
                        .description("Job requests stored, by kind").register(registry)).increment();
                jobClock.requested(e.id(), e.kind());
            }
            case JOB_RESULT -> {
                jobResults.computeIfAbsent(e.kind(), k -> Counter.builder("nexus.job.results").tag("kind", String.valueOf(k))
                        .description("Job results stored, by kind").register(registry)).increment();
                String request = firstTagValue(e, "e");
                if (request != null) jobClock.result(request);
            }
            case JOB_FEEDBACK -> {
                String status = firstTagValue(e, "status");
                String label = status == null ? "none" : FEEDBACK_STATUSES.contains(status) ? status : "other";
                jobFeedback.computeIfAbsent(label, s -> Counter.builder("nexus.job.feedback").tag("status", s)
                        .description("Job feedback stored, by status tag").register(registry)).increment();
                String request = firstTagValue(e, "e");
                if (request != null) jobClock.feedback(request);
            }
            default -> { }
        }
    }

    private static String firstTagValue(Event e, String name) {
        for (List<String> tag : e.tags()) if (tag.size() >= 2 && tag.get(0).equals(name)) return tag.get(1);
        return null;
    }

    private Timer jobTimer(Map<Integer, Timer> timers, String name, String description, int kind) {
        return timers.computeIfAbsent(kind, k -> Timer.builder(name).tag("kind", String.valueOf(k)).description(description)
                .serviceLevelObjectives(JOB_BUCKETS).register(registry));
    }
}
