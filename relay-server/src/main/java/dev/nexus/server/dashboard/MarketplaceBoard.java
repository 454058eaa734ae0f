package dev.nexus.server.dashboard;

import dev.nexus.core.Event;
import dev.nexus.core.MarketplaceKinds;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.LongSupplier;
import java.util.function.Predicate;
import java.util.function.Supplier;

/**
 * What the dashboard shows about the marketplace, from the job traffic the relay committed: requests
 * per minute by kind over the last hour, feedback by status, time to first feedback and to result,
 * the busiest providers and the last jobs with their state. Every structure is bounded (tracked jobs,
 * timing samples, providers, minute buckets), so a flood of jobs costs a fixed amount of memory.
 * It keeps no content and no full pubkey on display, and private events (restricted kinds, encrypted
 * jobs as the relay's read rule sees them) are not observed at all.
 */
public final class MarketplaceBoard {
    public static final int MINUTES = 60;
    public static final int RECENT_JOBS = 20;
    static final int TRACKED_JOBS = 2_000;
    static final int TIMING_SAMPLES = 1_000;
    static final int TRACKED_PROVIDERS = 1_000;
    static final int TOP_PROVIDERS = 10;
    private static final Set<String> STATUSES = Set.of("payment-required", "processing", "error", "success", "partial");

    /** A job's place in the NIP-90 flow as the relay saw it; a job only moves forward. */
    public enum State {
        REQUESTED("requested", 0), PAYMENT_REQUIRED("payment-required", 1), PROCESSING("processing", 2),
        SUCCESS("success", 3), ERROR("error", 3), RESULT("result", 4);

        final String label;
        final int rank;

        State(String label, int rank) {
            this.label = label;
            this.rank = rank;
        }

        public String label() { return label; }

        static State ofStatus(String status) {
            return switch (status) {
                case "payment-required" -> PAYMENT_REQUIRED;
                case "processing", "partial" -> PROCESSING;
                case "success" -> SUCCESS;
                case "error" -> ERROR;
                default -> null;
            };
        }
    }

    /** Sockets open and distinct authenticated pubkeys, read from the live connections when a snapshot is taken. */
    public record Agents(int connections, int authenticatedPubkeys) {}

    public record KindRate(int kind, long lastMinute, long lastHour) {}

    public record Provider(String pubkey, long results, long feedback) {}

    /** Seconds; null when nothing has been timed yet. */
    public record Latency(Double median, Double p95, int samples) {}

    public record JobRow(String id, int kind, String state, long ageSeconds, String provider, Double firstFeedbackSeconds, Double resultSeconds) {}

    public record Snapshot(long generatedAtMillis, Agents agents, long requests, long results, long feedback,
                           List<Long> requestsPerMinute, List<KindRate> kinds, Map<String, Long> feedbackByStatus,
                           Latency toFirstFeedback, Latency toResult, List<Provider> busiestProviders, List<JobRow> recentJobs) {}

    private static final class Job {
        final String id;
        final int kind;
        final long requestedAt;
        State state = State.REQUESTED;
        String provider;
        Double firstFeedback;
        Double result;

        Job(String id, int kind, long requestedAt) {
            this.id = id;
            this.kind = kind;
            this.requestedAt = requestedAt;
        }
    }

    private final MarketplaceKinds marketplace;
    private final Predicate<Event> isPrivate;
    private final LongSupplier clockMillis;
    private final Supplier<Agents> agents;

    private final long[] bucketMinute = new long[MINUTES];
    @SuppressWarnings("unchecked")
    private final Map<Integer, Long>[] bucketKinds = new Map[MINUTES];
    private long requests;
    private long results;
    private long feedback;
    private final Map<String, Long> feedbackByStatus = new TreeMap<>();
    private final Samples toFirstFeedback = new Samples(TIMING_SAMPLES);
    private final Samples toResult = new Samples(TIMING_SAMPLES);
    private final ProviderTally providers = new ProviderTally(TRACKED_PROVIDERS);
    private final LinkedHashMap<String, Job> jobs = new LinkedHashMap<>(256, 0.75f, false) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<String, Job> eldest) {
            return size() > TRACKED_JOBS;
        }
    };

    public MarketplaceBoard(MarketplaceKinds marketplace, Predicate<Event> isPrivate, LongSupplier clockMillis, Supplier<Agents> agents) {
        this.marketplace = marketplace;
        this.isPrivate = isPrivate;
        this.clockMillis = clockMillis;
        this.agents = agents;
        Arrays.fill(bucketMinute, -1);
        for (int i = 0; i < MINUTES; i++) bucketKinds[i] = new HashMap<>();
    }

    /** A committed event (called on the fan-out thread for every commit; anything but public job traffic is ignored). */
    public void committed(Event e) {
        MarketplaceKinds.Role role = marketplace.roleOf(e.kind());
        if (role == MarketplaceKinds.Role.NONE || role == MarketplaceKinds.Role.AGENT_MESSAGE || isPrivate.test(e)) return;
        long now = clockMillis.getAsLong();
        synchronized (this) {
            switch (role) {
                case JOB_REQUEST -> requested(e, now);
                case JOB_FEEDBACK -> feedback(e, now);
                case JOB_RESULT -> result(e, now);
                default -> { }
            }
        }
    }

    private void requested(Event e, long now) {
        if (jobs.containsKey(e.id())) return;
        requests++;
        long minute = now / 60_000;
        int slot = (int) (minute % MINUTES);
        if (bucketMinute[slot] != minute) {
            bucketMinute[slot] = minute;
            bucketKinds[slot].clear();
        }
        bucketKinds[slot].merge(e.kind(), 1L, Long::sum);
        jobs.put(e.id(), new Job(e.id(), e.kind(), now));
    }

    private void feedback(Event e, long now) {
        feedback++;
        String status = e.firstTagValue("status");
        String label = status == null ? "none" : STATUSES.contains(status) ? status : "other";
        feedbackByStatus.merge(label, 1L, Long::sum);
        providers.feedback(e.pubkey());
        Job job = job(e);
        if (job == null) return;
        if (job.firstFeedback == null) {
            job.firstFeedback = seconds(job, now);
            toFirstFeedback.add(job.firstFeedback);
        }
        State next = status == null ? null : State.ofStatus(status);
        if (next != null && next.rank >= job.state.rank && job.state != State.RESULT) job.state = next;
        if (job.provider == null) job.provider = shorten(e.pubkey());
    }

    private void result(Event e, long now) {
        results++;
        providers.result(e.pubkey());
        Job job = job(e);
        if (job == null) return;
        if (job.result == null) {
            job.result = seconds(job, now);
            toResult.add(job.result);
        }
        job.state = State.RESULT;
        job.provider = shorten(e.pubkey());
    }

    private Job job(Event reply) {
        String request = reply.firstTagValue("e");
        return request == null ? null : jobs.get(request);
    }

    private static double seconds(Job job, long now) {
        return Math.max(0, now - job.requestedAt) / 1000.0;
    }

    public synchronized Snapshot snapshot() {
        long now = clockMillis.getAsLong();
        long minute = now / 60_000;
        List<Long> perMinute = new ArrayList<>(MINUTES);
        Map<Integer, long[]> byKind = new TreeMap<>();
        for (long m = minute - MINUTES + 1; m <= minute; m++) {
            int slot = (int) (m % MINUTES);
            long total = 0;
            if (bucketMinute[slot] == m) {
                for (Map.Entry<Integer, Long> k : bucketKinds[slot].entrySet()) {
                    total += k.getValue();
                    long[] rate = byKind.computeIfAbsent(k.getKey(), x -> new long[2]);
                    rate[1] += k.getValue();
                    if (m == minute) rate[0] += k.getValue();
                }
            }
            perMinute.add(total);
        }
        List<KindRate> kinds = new ArrayList<>();
        byKind.forEach((kind, rate) -> kinds.add(new KindRate(kind, rate[0], rate[1])));

        List<Provider> top = new ArrayList<>();
        for (Provider p : providers.busiest(TOP_PROVIDERS)) top.add(new Provider(shorten(p.pubkey()), p.results(), p.feedback()));

        List<Job> all = new ArrayList<>(jobs.values());
        List<JobRow> recent = new ArrayList<>(RECENT_JOBS);
        for (int i = all.size() - 1; i >= 0 && recent.size() < RECENT_JOBS; i--) {
            Job j = all.get(i);
            recent.add(new JobRow(j.id.substring(0, Math.min(8, j.id.length())), j.kind, j.state.label,
                    Math.max(0, now - j.requestedAt) / 1000, j.provider, j.firstFeedback, j.result));
        }
        return new Snapshot(now, agents.get(), requests, results, feedback, perMinute, kinds, new TreeMap<>(feedbackByStatus),
                toFirstFeedback.latency(), toResult.latency(), top, recent);
    }

    /** A hex pubkey as the first 8 and last 4 characters: enough to recognise a provider, not to paste. */
    static String shorten(String pubkey) {
        if (pubkey == null) return null;
        if (pubkey.length() <= 14) return pubkey;
        return pubkey.substring(0, 8) + "\u2026" + pubkey.substring(pubkey.length() - 4);
    }
}
