package dev.nexus.server;

import dev.nexus.config.NexusConfig;
import dev.nexus.core.SignatureVerifier;
import dev.nexus.core.SignatureVerifiers;
import dev.nexus.server.dashboard.Dashboard;
import dev.nexus.server.dashboard.MarketplaceBoard;
import dev.nexus.server.metrics.RelayMetrics;
import dev.nexus.server.nip01.SubscriptionIndex;
import dev.nexus.server.policy.AccessControl;
import dev.nexus.server.policy.Policies;
import dev.nexus.server.sync.Federation;
import dev.nexus.server.sync.PeerSyncScheduler;
import dev.nexus.storage.EventStore;
import dev.nexus.storage.LiveFeed;
import io.netty.channel.Channel;
import io.netty.handler.ssl.SslContext;
import io.netty.util.concurrent.DefaultThreadFactory;
import java.net.InetSocketAddress;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The relay as an object: built from a config, started on its port, closed in order. Main and
 * the integration tests both use it; tests bind port 0 and a temporary database.
 *
 * <p>Thread roles: {@code nexus-io-*} (Netty event loops: sockets, parsing, cheap checks, writes
 * to clients), {@code nexus-verify-*} (signature checks), {@code nexus-writer} (the one SQLite
 * writer; hands each commit to the live feed), {@code nexus-fanout} (matches committed and ephemeral
 * events against subscriptions; with PostgreSQL, {@code nexus-feed} does this), {@code nexus-query-*}
 * (stored queries), {@code nexus-sweeper} (expiry and housekeeping).
 */
public final class NexusServer implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(NexusServer.class);
    /**
     * How often a node on a shared database (PostgreSQL) reads the NIP-86 state other nodes may have
     * changed: a ban made on one node holds on every node within this many seconds. One small
     * query per node per tick.
     */
    static final int MODERATION_REFRESH_SECONDS = 2;

    private final NexusConfig config;
    private final String version;
    /**
     * How much lower the signature checkers' CPU priority is than the rest of the relay's. Under a
     * social flood on a small machine every relay thread is runnable and the scheduler takes turns
     * among them, so a job's hops through its event loop and the writer each waited behind the
     * verifiers' turns. With jobs verified on their loop and a job joining the writer's open
     * transaction, JOBS under the flood went from a job OK p99 of 49.7-77.2 ms to 34.8-50.2 ms in
     * interleaved runs (docs/performance-history.md, "2026-12-07, second stop").
     * The checkers still use every core the others leave idle.
     */
    static final int VERIFIER_NICE = 4;
    private final SignatureVerifier givenVerifier;
    private final LongSupplier clock;
    private final java.util.function.UnaryOperator<Policies> policiesFromConfig;
    private final io.micrometer.core.instrument.MeterRegistry givenRegistry;
    private EventStore store;
    private LiveFeed liveFeed;
    private Transport transport;
    private TwoLaneExecutor verifiers;
    private ExecutorService queryWorkers;
    private ScheduledExecutorService sweeper;
    private Channel serverChannel;
    private ConnectionGate gate;
    private boolean closed;
    private MessageDispatcher dispatcher;
    private PeerSyncScheduler peerSync;
    private final ConnectionCloses closes = new ConnectionCloses();
    private RelayMetrics metrics;
    private dev.nexus.server.nip86.ManagementEndpoint management;
    private MarketplaceBoard board;
    private int port;

    public NexusServer(NexusConfig config) {
        this(config, Version.current());
    }

    public NexusServer(NexusConfig config, String version) {
        this(new NexusServerBuilder(config).version(version));
    }

    NexusServer(NexusServerBuilder parts) {
        this.config = parts.config;
        this.version = parts.version;
        this.store = parts.store;
        this.liveFeed = parts.liveFeed;
        this.givenVerifier = parts.verifier;
        this.clock = parts.clock;
        this.policiesFromConfig = parts.policies;
        this.givenRegistry = parts.meterRegistry;
    }

    /** A relay some of whose parts (store, live feed, verifier, clock, policies, meter registry) are given instead of built from config. */
    public static NexusServerBuilder builder(NexusConfig config) {
        return new NexusServerBuilder(config);
    }

    /** Opens the store, binds the port and returns once the relay accepts connections. */
    public NexusServer start() throws InterruptedException {
        int cores = Runtime.getRuntime().availableProcessors();
        NexusConfig.Server s = config.server();
        NexusConfig.Storage st = config.storage();
        NexusConfig.Retention ret = config.retention();
        SslContext tls = s.tls() ? Transport.tlsContext(s) : null;

        StoreBackends.Opened opened = StoreBackends.open(config, store, liveFeed);
        store = opened.store();
        liveFeed = opened.feed();
        metrics = new RelayMetrics(config.metrics(), config.marketplace().kinds(), givenRegistry);
        SignatureVerifier verifier = metrics.timed(givenVerifier != null ? givenVerifier : SignatureVerifiers.best());
        // Job traffic is verified on its event loop, so these threads check ordinary events only: the one pool
        // whose work can always wait while the loops and the writer carry a job (see VERIFIER_NICE).
        verifiers = new TwoLaneExecutor("nexus-verify", s.verifierThreads() > 0 ? s.verifierThreads() : cores, VERIFIER_NICE);
        queryWorkers = Executors.newFixedThreadPool(s.queryThreads() > 0 ? s.queryThreads() : st.readerPoolSize(), new DefaultThreadFactory("nexus-query", true));
        RateLimiter limiter = new RateLimiter(config.rateLimits());
        SubscriptionIndex index = new SubscriptionIndex(config.limits().maxTotalSubscriptions(), config.limits().maxTotalFilterValues());
        AccessControl access = AccessControl.fromConfig(config);
        // Bans, allow lists and blocks recorded through NIP-86 apply before the first connection.
        dev.nexus.server.nip86.RelayModeration moderation = new dev.nexus.server.nip86.RelayModeration(access, store);
        Policies policies = policiesFromConfig.apply(Policies.fromConfig(config, access, limiter, clock));
        dispatcher = new MessageDispatcher(config, metrics.timed(store), liveFeed, verifier, verifiers, queryWorkers, index, policies, access, clock, metrics);
        registerGauges(index);
        board = newMarketplaceBoard();
        liveFeed.start(e -> {
            dispatcher.onCommitted(e);
            if (e.stored()) board.committed(e.event());
        });
        RelayModerationView identity = new RelayModerationView(moderation.identity());
        RelayInfoHandler relayInfo = new RelayInfoHandler(RelayInfo.render(config, version, moderation.identity()),
                identity.name(s), identity.description(s), limiter, s.realIpHeader(), metrics,
                new Dashboard(board, identity.name(s), identity.description(s)));

        gate = new ConnectionGate(s.maxConnections(), s.maxPreUpgradeConnections(), s.httpRequestTimeoutSeconds(), metrics);
        // Directly reachable: how often an address connects is checked on accept, before a byte is read.
        if (s.realIpHeader().isEmpty()) gate.refuseTooFrequentConnects(limiter::connectsTooOften);
        gate.refuseBlockedIps(moderation::isIpBlocked);
        moderation.onIpBlocked(gate::closeFrom);
        moderation.onEventBanned(dispatcher::forgetEvent);
        moderation.onIdentityChanged(changed -> {
            RelayModerationView view = new RelayModerationView(changed);
            relayInfo.show(RelayInfo.render(config, version, changed), view.name(s), view.description(s));
        });
        // Two loops per core, not one: a job's read, its OK and its delivery each wait for a turn of a
        // loop that also parses a flood; with more, smaller loops the kernel's time slices reach the
        // job's loop sooner (JOBS on 2 cores, four pairs: job OK p99 108-135 -> 52-64 ms; W1 unchanged).
        transport = new Transport(s.ioThreads() > 0 ? s.ioThreads() : 2 * cores);
        serverChannel = transport.bind(s.host(), s.port(), config.limits().maxOutboundBytes(), gate.acceptFilter(),
                new RelayChannelInitializer(config, relayInfo, dispatcher, tls, closes, gate, metrics));
        port = ((InetSocketAddress) serverChannel.localAddress()).getPort();
        String publicUrl = s.publicUrl(port);
        dispatcher.useBoundPort(port);
        if (config.managementServed()) {
            management = dev.nexus.server.nip86.ManagementEndpoint.forRelay(config, port, verifier, access, moderation, clock);
            relayInfo.manageWith(management, moderation::isIpBlocked);
        } else {
            relayInfo.manageWith(null, moderation::isIpBlocked);
        }
        if (authUrlWarningDue(config)) {
            log.warn("[auth] is required but [server] url is empty and the relay listens on {}: clients can only authenticate "
                    + "with relay tags naming {} or [server] relay_names {}; set [server] url to the address clients use", s.host(), publicUrl, s.relayNames());
        }

        sweeper = Executors.newSingleThreadScheduledExecutor(new DefaultThreadFactory("nexus-sweeper", true));
        sweeper.scheduleWithFixedDelay(new ExpirySweeper(store, ret.sweepBatch(), limiter),
                ret.sweepIntervalSeconds(), ret.sweepIntervalSeconds(), TimeUnit.SECONDS);
        sweeper.scheduleAtFixedRate(closes::logRecent, 60, 60, TimeUnit.SECONDS);
        // Buckets of addresses that have gone quiet, forgotten on a clock of their own: the expiry
        // sweep's interval is the operator's (up to a day) and it skips a round while the store fails.
        sweeper.scheduleAtFixedRate(limiter::evictIdle, 10, 10, TimeUnit.SECONDS);
        // Nodes sharing one database share the operator's NIP-86 decisions: each follows the table.
        if (st.backend() == NexusConfig.Backend.POSTGRES) {
            sweeper.scheduleWithFixedDelay(moderation::refreshOrLog, MODERATION_REFRESH_SECONDS, MODERATION_REFRESH_SECONDS, TimeUnit.SECONDS);
        }
        // The local feed fans a synced event out on nexus-fanout; a cluster feed ignores this and carries the commit itself.
        if (!config.sync().peers().isEmpty()) peerSync = Federation.start(config, store, verifier, liveFeed::committedHere, metrics);
        int summaryEvery = config.metrics().summaryLogSeconds();
        if (summaryEvery > 0) sweeper.scheduleAtFixedRate(metrics::logSummary, summaryEvery, summaryEvery, TimeUnit.SECONDS);

        log.info("Nexus {} listening on {}:{} (public URL {}, {}, verifier: {}, auth: {}{}; marketplace: {})",
                version, s.host(), port, publicUrl, transport.describe(), verifier.name(),
                config.auth().required().name().toLowerCase(),
                config.auth().openKinds().isEmpty() ? "" : " except open kinds " + config.auth().openKinds(),
                config.marketplace().kinds());
        return this;
    }

    /** The [[sync.peers]] scheduler, or null when none are configured. */
    PeerSyncScheduler peerSync() {
        return peerSync;
    }

    /** What the metrics read from the parts that hold the numbers (closes by reason, queues, sockets, subscriptions). */
    private void registerGauges(SubscriptionIndex index) {
        for (ConnectionCloses.Reason r : ConnectionCloses.Reason.values()) {
            metrics.connectionsClosed(r.name().toLowerCase(java.util.Locale.ROOT), () -> closes.count(r));
        }
        metrics.gauge("nexus.connections.open", "Sockets open now (WebSocket and plain HTTP)", () -> gate == null ? 0 : gate.connections());
        metrics.gauge("nexus.subscriptions", "Live subscriptions (REQs open) across all connections", index::live);
        metrics.queueDepth("verifiers", verifiers::queued);
        if (queryWorkers instanceof java.util.concurrent.ThreadPoolExecutor pool) metrics.queueDepth("query", () -> pool.getQueue().size());
    }

    /**
     * The dashboard hides what the relay's read rule would restrict once auth is on (restricted kinds,
     * encrypted jobs), whether or not auth is on now: a public page is no place for private traffic.
     */
    private MarketplaceBoard newMarketplaceBoard() {
        NexusConfig.Auth a = config.auth();
        RestrictedKinds hidden = new RestrictedKinds(a.restrictedKinds(), a.restrictEncryptedJobs(), config.marketplace().kinds(), a.openKinds());
        return new MarketplaceBoard(config.marketplace().kinds(), hidden::isRestricted, System::currentTimeMillis, this::connectedAgents);
    }

    private MarketplaceBoard.Agents connectedAgents() {
        return gate == null ? new MarketplaceBoard.Agents(0, 0) : new MarketplaceBoard.Agents(gate.connections(), gate.authenticatedPubkeys());
    }

    /** What the dashboard shows (GET / for browsers, /dashboard.json). */
    public MarketplaceBoard marketplaceBoard() {
        return board;
    }

    /** The relay's metrics (what {@code GET /metrics} serves). */
    public RelayMetrics metrics() {
        return metrics;
    }

    /** The name and description the HTML page shows: the operator's NIP-86 overrides, else the config's. */
    private record RelayModerationView(dev.nexus.server.nip86.RelayModeration.Identity identity) {
        String name(NexusConfig.Server s) { return identity.name() != null ? identity.name() : s.name(); }
        String description(NexusConfig.Server s) { return identity.description() != null ? identity.description() : s.description(); }
    }

    /** Clients reaching a public bind cannot know which name AUTH events must give unless the operator says. */
    static boolean authUrlWarningDue(NexusConfig config) {
        NexusConfig.Server s = config.server();
        return config.auth().requiredForWrites() && s.url().isEmpty() && !s.loopbackBind();
    }

    public int port() {
        return port;
    }

    /** Writes the summary of closes the relay logs once a minute now; for tests. */
    void logRecentCloses() {
        closes.logRecent();
    }

    /** Why connections ended so far, by reason. */
    long connectionsClosed(ConnectionCloses.Reason reason) {
        return closes.count(reason);
    }

    public NexusConfig config() {
        return config;
    }

    /** Stops accepting, closes connections, lets the writer commit what it has, then closes the store. */
    @Override
    public synchronized void close() {
        if (closed) return;
        closed = true;
        if (peerSync != null) peerSync.close();
        if (serverChannel != null) serverChannel.close().syncUninterruptibly();
        if (gate != null) OrderlyShutdown.answerWhatWasReadThenSayGoodbye(gate, dispatcher, transport.ioLoops());
        if (transport != null) transport.shutdown();
        if (sweeper != null) sweeper.shutdownNow();
        if (management != null) management.close();
        if (verifiers != null) verifiers.shutdown(10, TimeUnit.SECONDS);
        OrderlyShutdown.stop(queryWorkers);
        if (liveFeed != null) liveFeed.close();
        if (store != null) store.close();
        if (metrics != null) metrics.close();
        log.info("Nexus stopped");
    }
}
