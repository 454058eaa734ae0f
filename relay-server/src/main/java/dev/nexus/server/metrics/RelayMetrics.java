package dev.nexus.server.metrics;

import dev.nexus.config.NexusConfig;
import dev.nexus.core.ClientMessage;
import dev.nexus.core.Event;
import dev.nexus.core.Kinds;
import dev.nexus.core.MarketplaceKinds;
import dev.nexus.core.SignatureVerifier;
import dev.nexus.storage.EventStore;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.binder.jvm.ClassLoaderMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.system.FileDescriptorMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.core.instrument.binder.system.UptimeMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.LongSupplier;
import java.util.function.Supplier;

/**
 * Everything the relay counts, for {@code GET /metrics} (Prometheus text format) and the summary
 * log line. Created once by {@code NexusServer} and handed by constructor to the few places that
 * record; each of those makes one call and all the deciding (labels, kind classes, outcomes, job
 * timing) happens here. Labels are bounded sets: kind classes, OK prefixes, verbs, job kinds within
 * the configured {@code [marketplace]} ranges, feedback statuses; never a pubkey, id or subscription id.
 */
public final class RelayMetrics implements AutoCloseable {
    public static final String CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";
    /** Job requests waiting for their first feedback or result that the job clock remembers; the oldest go first. */
    static final int MAX_PENDING_JOBS = 100_000;

    /** The machine-readable prefixes of NIP-01 OK and CLOSED messages; anything else counts as "error". */
    private static final Set<String> REFUSAL_PREFIXES = Set.of("invalid", "rate-limited", "blocked", "auth-required", "restricted",
            "error", "pow", "mute");
    private static final Set<String> FEEDBACK_STATUSES = Set.of("payment-required", "processing", "error", "success", "partial");
    private static final Set<String> VERBS = Set.of("EVENT", "REQ", "CLOSE", "COUNT", "AUTH", "NEG-OPEN", "NEG-MSG", "NEG-CLOSE", "malformed");
    private static final Set<String> FRAME_TYPES = Set.of("EVENT", "OK", "EOSE", "CLOSED", "NOTICE", "AUTH", "COUNT", "NEG-MSG", "NEG-ERR");
    private static final Duration[] LATENCY_BUCKETS = durations(0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
            0.1, 0.25, 0.5, 1, 2.5, 5, 10);
    private static final Duration[] JOB_BUCKETS = durations(0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 3600);

    private final NexusConfig.Metrics config;
    private final MarketplaceKinds marketplace;
    private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    private final JvmGcMetrics gc = new JvmGcMetrics();
    private final Map<String, Counter> events = new ConcurrentHashMap<>();
    private final Map<String, Counter> messagesIn = new ConcurrentHashMap<>();
    private final Map<String, Counter> messagesOut = new ConcurrentHashMap<>();
    /** The EVENT count is bumped once per delivery: held here rather than looked up each time. */
    private final Counter eventsOut;
    private final Map<String, Counter> refusedConnections = new ConcurrentHashMap<>();
    private final Map<Integer, Counter> jobRequests = new ConcurrentHashMap<>();
    private final Map<Integer, Counter> jobResults = new ConcurrentHashMap<>();
    private final Map<String, Counter> jobFeedback = new ConcurrentHashMap<>();
    private final Map<Integer, Timer> toFirstFeedback = new ConcurrentHashMap<>();
    private final Map<Integer, Timer> toResult = new ConcurrentHashMap<>();
    private final Counter connectionsOpened;
    private final Counter delivered;
    private final Counter dropped;
    private final Timer verifyTimer;
    private final Timer writeTimer;
    private final Timer writeBatchTimer;
    private final DistributionSummary writeBatchSize;
    private final Map<String, Timer> queryTimers = new ConcurrentHashMap<>();
    private final JobClock jobClock;
    private final List<Object> countSources = new java.util.concurrent.CopyOnWriteArrayList<>();
    private final MetricsSummary summary;

    public RelayMetrics(NexusConfig.Metrics config, MarketplaceKinds marketplace) {
        this.config = config;
        this.marketplace = marketplace;
        connectionsOpened = Counter.builder("nexus.connections.opened").description("Sockets accepted (WebSocket or plain HTTP)").register(registry);
        eventsOut = messagesOut.computeIfAbsent("EVENT", t -> Counter.builder("nexus.messages.out").tag("type", t)
                .description("Relay messages sent, by type").register(registry));
        delivered = Counter.builder("nexus.fanout.deliveries").description("Live events written to a matching subscription").register(registry);
        dropped = Counter.builder("nexus.fanout.drops")
                .description("Live events not delivered because the subscriber was too slow (it is then disconnected)").register(registry);
        verifyTimer = Timer.builder("nexus.verify").description("BIP-340 signature checks (EVENT and AUTH)")
                .serviceLevelObjectives(LATENCY_BUCKETS).register(registry);
        writeTimer = Timer.builder("nexus.write").description("From handing an event to the writer to its commit (queueing included)")
                .serviceLevelObjectives(LATENCY_BUCKETS).register(registry);
        writeBatchTimer = Timer.builder("nexus.write.batch").description("One writer transaction, first statement to commit")
                .serviceLevelObjectives(LATENCY_BUCKETS).register(registry);
        writeBatchSize = DistributionSummary.builder("nexus.write.batch.size").baseUnit("events")
                .description("Writes committed together in one transaction")
                .serviceLevelObjectives(1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 4096).register(registry);
        jobClock = new JobClock(MAX_PENDING_JOBS, System::nanoTime,
                (kind, s) -> jobTimer(toFirstFeedback, "nexus.job.first.feedback", "From a job request to its first feedback (kind 7000)", kind).record(nanos(s), java.util.concurrent.TimeUnit.NANOSECONDS),
                (kind, s) -> jobTimer(toResult, "nexus.job.result", "From a job request to its first result", kind).record(nanos(s), java.util.concurrent.TimeUnit.NANOSECONDS));
        Gauge.builder("nexus.jobs.pending", jobClock, JobClock::pendingCount)
                .description("Job requests seen without a result yet (bounded; the oldest are forgotten)").register(registry);
        new JvmMemoryMetrics().bindTo(registry);
        gc.bindTo(registry);
        new JvmThreadMetrics().bindTo(registry);
        new ClassLoaderMetrics().bindTo(registry);
        new ProcessorMetrics().bindTo(registry);
        new UptimeMetrics().bindTo(registry);
        new FileDescriptorMetrics().bindTo(registry);
        Gauge.builder("nexus.process.resident.memory", ProcessMemory::residentBytes).baseUnit("bytes")
                .description("Resident set size of the relay process (Linux /proc; NaN elsewhere)").register(registry);
        summary = new MetricsSummary(registry);
    }

    // ---------------------------------------------------------------- the endpoint

    /** Whether this request path is the metrics endpoint (whatever the config says; a disabled one answers 404). */
    public boolean servesPath(String uri) {
        return uri.equals("/metrics") || uri.startsWith("/metrics?");
    }

    /** An HTTP answer for {@code GET /metrics}. */
    public record Scrape(int status, String contentType, byte[] body) {}

    /**
     * The answer for a client: the exposition for loopback clients (or anyone with
     * {@code allow_remote}), 403 otherwise. Behind a proxy the client is the one the real-IP header
     * names ({@code forwardedIp}, null when absent), so the proxy's own loopback socket does not
     * open the endpoint to the internet.
     */
    public Scrape scrape(String forwardedIp, SocketAddress socket) {
        if (!config.enabled()) return text(404, "metrics are disabled ([metrics] enabled = false)\n");
        if (!config.allowRemote() && !isLoopback(forwardedIp, socket)) {
            return text(403, "metrics are served to loopback clients only; set [metrics] allow_remote = true to change that\n");
        }
        return new Scrape(200, CONTENT_TYPE, registry.scrape().getBytes(StandardCharsets.UTF_8));
    }

    static boolean isLoopback(String forwardedIp, SocketAddress socket) {
        if (forwardedIp != null) {
            try {
                // An IP literal (the handler normalized it): no name lookup happens.
                return InetAddress.getByName(forwardedIp).isLoopbackAddress();
            } catch (UnknownHostException e) {
                return false;
            }
        }
        return socket instanceof InetSocketAddress a && a.getAddress() != null && a.getAddress().isLoopbackAddress();
    }

    private static Scrape text(int status, String body) {
        return new Scrape(status, "text/plain; charset=utf-8", body.getBytes(StandardCharsets.UTF_8));
    }

    /** The exposition as Prometheus would read it. */
    public String scrapeText() {
        return registry.scrape();
    }

    // ---------------------------------------------------------------- connections

    public void connectionOpened() {
        connectionsOpened.increment();
    }

    /**
     * A socket refused at a cap; {@code cap} starts with the config key's name (e.g. "max_connections 10000").
     */
    public void connectionRefused(String cap) {
        int space = cap.indexOf(' ');
        String limit = space > 0 ? cap.substring(0, space) : cap;
        refusedConnections.computeIfAbsent(limit, l -> Counter.builder("nexus.connections.refused").tag("limit", l)
                .description("Connections refused at a cap, by the config key of the cap").register(registry)).increment();
    }

    /** Connections that ended, by why; the count lives where the reason is known. */
    public void connectionsClosed(String reason, LongSupplier count) {
        countSources.add(count); // the registry holds function counters' sources weakly
        FunctionCounter.builder("nexus.connections.closed", count, c -> c.getAsLong()).tag("reason", reason)
                .description("Connections that ended, by reason").register(registry);
    }

    /** A monotonic count someone else holds (e.g. a peer sync's totals); labels must come from config, never from clients. */
    public void counterOf(String name, String description, LongSupplier count, String... tags) {
        countSources.add(count);
        FunctionCounter.builder(name, count, c -> c.getAsLong()).tags(tags).description(description).register(registry);
    }

    /** A gauge of a number someone else holds (queue depths, open sockets, live subscriptions). */
    public void gauge(String name, String description, Supplier<Number> value, String... tags) {
        Gauge.builder(name, value).tags(tags).description(description).register(registry);
    }

    /** Depth of one of the relay's work queues: verifiers, writer, query workers. */
    public void queueDepth(String queue, Supplier<Number> depth) {
        gauge("nexus.queue.depth", "Tasks waiting in a work queue", depth, "queue", queue);
    }

    // ---------------------------------------------------------------- messages

    /** A parsed client message; null when the message could not be parsed at all. */
    public void messageIn(ClientMessage message) {
        messageIn(verbOf(message));
    }

    /** A message whose verb was read but whose content was refused (e.g. a REQ with a bad filter). */
    public void messageIn(String verb) {
        if (!VERBS.contains(verb)) verb = "malformed";
        String label = verb;
        messagesIn.computeIfAbsent(label, v -> Counter.builder("nexus.messages.in").tag("verb", v)
                .description("Client messages by verb (\"malformed\": not a valid message)").register(registry)).increment();
    }

    static String verbOf(ClientMessage m) {
        if (m instanceof ClientMessage.Publish) return "EVENT";
        if (m instanceof ClientMessage.Subscribe) return "REQ";
        if (m instanceof ClientMessage.Unsubscribe) return "CLOSE";
        if (m instanceof ClientMessage.Count) return "COUNT";
        if (m instanceof ClientMessage.Authenticate) return "AUTH";
        if (m instanceof ClientMessage.NegentropyOpen) return "NEG-OPEN";
        if (m instanceof ClientMessage.NegentropyMessage) return "NEG-MSG";
        if (m instanceof ClientMessage.NegentropyClose) return "NEG-CLOSE";
        return "malformed";
    }

    /** A text frame the relay sends; its type is read from the frame's start ({@code ["OK",...}). */
    public void sent(String frame) {
        sentType(typeOf(frame));
    }

    /** An EVENT frame (stored result or live event), written without passing through {@link #sent}. */
    public void sentEvent() {
        eventsOut.increment();
    }

    public void sentEose() {
        sentType("EOSE");
    }

    private void sentType(String type) {
        messagesOut.computeIfAbsent(type, t -> Counter.builder("nexus.messages.out").tag("type", t)
                .description("Relay messages sent, by type").register(registry)).increment();
    }

    static String typeOf(String frame) {
        if (frame.length() < 4 || !frame.startsWith("[\"")) return "other";
        int end = frame.indexOf('"', 2);
        if (end < 0) return "other";
        String type = frame.substring(2, end);
        return FRAME_TYPES.contains(type) ? type : "other";
    }

    // ---------------------------------------------------------------- events

    /**
     * An EVENT was answered with this OK: counts it by kind class and outcome (the OK's prefix),
     * and for stored marketplace events, counts and times the job flow.
     */
    public void eventAnswered(Event e, boolean accepted, String message) {
        String outcome = outcome(accepted, message);
        eventCounter(kindClass(marketplace, e.kind()), outcome).increment();
        if (outcome.equals("stored")) marketplaceEvent(e);
    }

    /** An EVENT so malformed that its kind is not known (bad id, bad field types). */
    public void eventUnparsable() {
        eventCounter("unknown", "invalid").increment();
        messageIn("EVENT");
    }

    private Counter eventCounter(String kindClass, String outcome) {
        return events.computeIfAbsent(kindClass + ' ' + outcome, k -> Counter.builder("nexus.events")
                .tag("kind_class", kindClass).tag("outcome", outcome)
                .description("EVENTs answered, by kind class and outcome (the OK message's prefix; stored: accepted and new)")
                .register(registry));
    }

    static String outcome(boolean accepted, String message) {
        if (accepted) return message.startsWith("duplicate:") ? "duplicate" : "stored";
        int colon = message.indexOf(':');
        String prefix = colon > 0 ? message.substring(0, colon) : "";
        return REFUSAL_PREFIXES.contains(prefix) ? prefix : "error";
    }

    static String kindClass(MarketplaceKinds marketplace, int kind) {
        if (marketplace.isJobTraffic(kind)) return "job";
        if (Kinds.isEphemeral(kind)) return "ephemeral";
        if (Kinds.isReplaceable(kind)) return "replaceable";
        if (Kinds.isAddressable(kind)) return "addressable";
        return "regular";
    }

    private void marketplaceEvent(Event e) {
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

    // ---------------------------------------------------------------- fan-out

    public void liveEventDelivered() {
        delivered.increment();
    }

    public void liveEventDropped() {
        dropped.increment();
    }

    // ---------------------------------------------------------------- timing what others do

    /** The verifier, timed. */
    public SignatureVerifier timed(SignatureVerifier verifier) {
        return new TimedVerifier(verifier, verifyTimer);
    }

    /** The store as the protocol sees it: writes and queries timed; the writer's batches, queue and size on disk observed. */
    public EventStore timed(EventStore store) {
        store.observeWrites((size, nanos) -> {
            writeBatchSize.record(size);
            writeBatchTimer.record(nanos, java.util.concurrent.TimeUnit.NANOSECONDS);
        });
        queueDepth("writer", store::queuedWrites);
        Gauge.builder("nexus.store.size", store, s -> {
            long bytes = s.sizeOnDiskBytes();
            return bytes < 0 ? Double.NaN : bytes;
        }).baseUnit("bytes").description("The store's size on disk (SQLite: database and WAL files; PostgreSQL: the database)").register(registry);
        return new TimedEventStore(store, writeTimer, this::queryTimer);
    }

    private Timer queryTimer(String operation) {
        return queryTimers.computeIfAbsent(operation, op -> Timer.builder("nexus.query").tag("operation", op)
                .description("Stored queries on the query workers: one filter of a REQ (query), a COUNT (count), a NIP-77 id scan (scan)")
                .serviceLevelObjectives(LATENCY_BUCKETS).register(registry));
    }

    // ---------------------------------------------------------------- the summary line

    /** Logs one line summing up the last interval; nothing when nothing happened. */
    public void logSummary() {
        summary.logRecent();
    }

    String summaryLine() {
        return summary.recent();
    }

    public int summaryLogSeconds() {
        return config.summaryLogSeconds();
    }

    @Override
    public void close() {
        gc.close();
        registry.close();
    }

    private static long nanos(double seconds) {
        return (long) (seconds * 1e9);
    }

    private static Duration[] durations(double... seconds) {
        Duration[] d = new Duration[seconds.length];
        for (int i = 0; i < seconds.length; i++) d[i] = Duration.ofNanos(nanos(seconds[i]));
        return d;
    }
}
