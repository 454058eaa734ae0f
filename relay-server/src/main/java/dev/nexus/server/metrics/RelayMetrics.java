package dev.nexus.server.metrics;

import dev.nexus.config.NexusConfig;
import dev.nexus.core.ClientMessage;
import dev.nexus.core.Event;
import dev.nexus.core.MarketplaceKinds;
import dev.nexus.core.SignatureVerifier;
import dev.nexus.storage.EventStore;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.composite.CompositeMeterRegistry;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.net.SocketAddress;
import java.time.Duration;
import java.util.Map;
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

    private final NexusConfig.Metrics config;
    private final MarketplaceKinds marketplace;
    /** Where every meter is registered: the Prometheus registry, or both it and an embedder's own. */
    private final MeterRegistry registry;
    private final MetricsEndpoint endpoint;
    private final JobMetrics jobs;
    private final MessageMetrics messages;
    private final EventMetrics events;
    private final JvmMetrics jvm;
    private final Map<String, Counter> refusedConnections = new ConcurrentHashMap<>();
    private final Counter connectionsOpened;
    private final Counter delivered;
    private final Timer fanOutDelay;
    /** Finer around the hold (10 ms) and the 20 ms a subscriber should see at most, so that bound can be read off. */
    private static final Duration[] FAN_OUT_BUCKETS = durations(0.0005, 0.001, 0.0025, 0.005, 0.0075, 0.01, 0.0125, 0.015,
            0.02, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10);
    private final Counter dropped;
    private final StoreMetrics timing;
    private final java.util.List<Object> countSources = new java.util.concurrent.CopyOnWriteArrayList<>();
    private final MetricsSummary summary;

    public RelayMetrics(NexusConfig.Metrics config, MarketplaceKinds marketplace) {
        this(config, marketplace, null);
    }

    /**
     * With an embedder's registry: a {@link PrometheusMeterRegistry} is the one {@code GET /metrics}
     * serves; any other registry receives every meter beside the relay's own Prometheus registry.
     */
    public RelayMetrics(NexusConfig.Metrics config, MarketplaceKinds marketplace, MeterRegistry given) {
        this.config = config;
        this.marketplace = marketplace;
        PrometheusMeterRegistry prometheus = given instanceof PrometheusMeterRegistry p ? p : new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        if (given == null || given == prometheus) {
            registry = prometheus;
        } else {
            CompositeMeterRegistry both = new CompositeMeterRegistry();
            both.add(prometheus);
            both.add(given);
            registry = both;
        }
        endpoint = new MetricsEndpoint(config, prometheus);
        jobs = new JobMetrics(registry, marketplace);
        messages = new MessageMetrics(registry);
        connectionsOpened = Counter.builder("nexus.connections.opened").description("Sockets accepted (WebSocket or plain HTTP)").register(registry);
        delivered = Counter.builder("nexus.fanout.deliveries").description("Live events written to a matching subscription").register(registry);
        fanOutDelay = Timer.builder("nexus.fanout.delay")
                .description("From the fan-out taking a committed (or ephemeral) event to its flush into the matching subscribers' connections, per event and event loop (the live_coalesce_millis hold included)")
                .serviceLevelObjectives(FAN_OUT_BUCKETS).register(registry);
        dropped = Counter.builder("nexus.fanout.drops")
                .description("Live events not delivered because the subscriber was too slow (it is then disconnected)").register(registry);
        timing = new StoreMetrics(registry);
        events = new EventMetrics(registry);
        jvm = new JvmMetrics(registry);
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
        return endpoint.scrape(forwardedIp, socket);
    }

    /** The exposition as Prometheus would read it. */
    public String scrapeText() {
        return endpoint.scrapeText();
    }

    /** Where the meters are registered (for embedders and tests that read them directly). */
    public MeterRegistry registry() {
        return registry;
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
        messages.in(MessageMetrics.verbOf(message));
    }

    /** A message whose verb was read but whose content was refused (e.g. a REQ with a bad filter). */
    public void messageIn(String verb) {
        messages.in(verb);
    }

    /** A text frame the relay sends; its type is read from the frame's start ({@code ["OK",...}). */
    public void sent(String frame) {
        messages.out(MessageMetrics.typeOf(frame));
    }

    /** An EVENT frame (stored result or live event), written without passing through {@link #sent}. */
    public void sentEvents(int frames) {
        messages.outEvents(frames);
    }

    public void sentEose() {
        messages.out("EOSE");
    }

    // ---------------------------------------------------------------- events

    /**
     * An EVENT was answered with this OK: counts it by kind class and outcome (the OK's prefix),
     * and for stored marketplace events, counts and times the job flow.
     */
    public void eventAnswered(Event e, boolean accepted, String message) {
        String outcome = EventMetrics.outcome(accepted, message);
        events.answered(EventMetrics.kindClass(marketplace, e.kind()), outcome);
        if (outcome.equals("stored")) jobs.stored(e);
    }

    /** An EVENT so malformed that its kind is not known (bad id, bad field types). */
    public void eventUnparsable() {
        events.answered("unknown", "invalid");
        messageIn("EVENT");
    }

    // ---------------------------------------------------------------- fan-out

    /** Live EVENT frames one fan-out run wrote to one connection: sent messages and deliveries both. */
    public void liveEventsSent(int frames) {
        messages.outEvents(frames);
        delivered.increment(frames);
    }

    /** Nanoseconds from the fan-out taking an event to its flush into one event loop's matching connections. */
    public void liveEventFlushed(long nanos) {
        fanOutDelay.record(nanos, java.util.concurrent.TimeUnit.NANOSECONDS);
    }

    public void liveEventDropped() {
        dropped.increment();
    }

    // ---------------------------------------------------------------- timing what others do

    /** The verifier, timed. */
    public SignatureVerifier timed(SignatureVerifier verifier) {
        return timing.timed(verifier);
    }

    /** The store as the protocol sees it: writes and queries timed; the writer's batches, queue and size on disk observed. */
    public EventStore timed(EventStore store) {
        queueDepth("writer", store::queuedWrites);
        return timing.timed(store);
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
        jvm.close();
        registry.close();
    }

    static long nanos(double seconds) {
        return (long) (seconds * 1e9);
    }

    static Duration[] durations(double... seconds) {
        Duration[] d = new Duration[seconds.length];
        for (int i = 0; i < seconds.length; i++) d[i] = Duration.ofNanos(nanos(seconds[i]));
        return d;
    }
}
