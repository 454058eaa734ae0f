package dev.nexus.server;

import dev.nexus.config.NexusConfig;
import dev.nexus.core.SignatureVerifier;
import dev.nexus.core.SignatureVerifiers;
import dev.nexus.server.dashboard.Dashboard;
import dev.nexus.server.dashboard.MarketplaceBoard;
import dev.nexus.server.metrics.RelayMetrics;
import dev.nexus.server.nip01.SubscriptionIndex;
import dev.nexus.server.nip42.Nip42Auth;
import dev.nexus.server.policy.AccessControl;
import dev.nexus.server.policy.Policies;
import dev.nexus.server.sync.EventSigner;
import dev.nexus.server.sync.PeerSync;
import dev.nexus.server.sync.PeerSyncScheduler;
import dev.nexus.storage.EventStore;
import dev.nexus.storage.LiveFeed;
import dev.nexus.storage.LocalLiveFeed;
import dev.nexus.storage.RetentionPolicy;
import dev.nexus.storage.SqliteEventStore;
import dev.nexus.storage.postgres.PostgresEventStore;
import dev.nexus.storage.postgres.PostgresLiveFeed;
import dev.nexus.storage.postgres.PostgresLocation;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.channel.Channel;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.ServerChannel;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollEventLoopGroup;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.nio.NioEventLoopGroup;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.util.concurrent.DefaultThreadFactory;
import java.io.File;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;
import javax.net.ssl.SSLException;
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
    /** Committed events fan-out may fall behind by before the writer waits for it. */
    private static final int LIVE_FEED_CAPACITY = 65_536;

    private final NexusConfig config;
    private final String version;
    private final SignatureVerifier givenVerifier;
    private final LongSupplier clock;
    private final java.util.function.UnaryOperator<Policies> policiesFromConfig;
    private final io.micrometer.core.instrument.MeterRegistry givenRegistry;
    private EventStore store;
    private LiveFeed liveFeed;
    private EventLoopGroup bossGroup;
    private EventLoopGroup ioGroup;
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
        SslContext tls = s.tls() ? tlsContext(s) : null;

        RetentionPolicy retention = new RetentionPolicy(config.marketplace().kinds(), ret.jobRequestSeconds(), ret.jobResultSeconds(), ret.jobFeedbackSeconds());
        if (store != null) {
            if (liveFeed == null) liveFeed = new LocalLiveFeed(LIVE_FEED_CAPACITY);
        } else if (st.backend() == NexusConfig.Backend.POSTGRES) {
            // Several nodes share the database; every node's live subscribers hear every node's commits through the feed.
            PostgresEventStore pg = new PostgresEventStore(PostgresLocation.parse(st.postgresUrl()), st.readerPoolSize(),
                    st.writeBatchMax(), retention, st.postgresConnectTimeoutMs());
            store = pg;
            liveFeed = new PostgresLiveFeed(pg, "nexus-feed");
        } else {
            store = new SqliteEventStore(Path.of(st.path()), st.synchronous(), st.readerPoolSize(), st.writeBatchMax(), retention,
                    st.walMaxBytes(), config.limits().maxQueryMillis());
            liveFeed = new LocalLiveFeed(LIVE_FEED_CAPACITY);
        }
        metrics = new RelayMetrics(config.metrics(), config.marketplace().kinds(), givenRegistry);
        SignatureVerifier verifier = metrics.timed(givenVerifier != null ? givenVerifier : SignatureVerifiers.best());
        verifiers = new TwoLaneExecutor("nexus-verify", s.verifierThreads() > 0 ? s.verifierThreads() : cores);
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
        gate.refuseBlockedIps(moderation::isIpBlocked);
        moderation.onIpBlocked(gate::closeFrom);
        moderation.onEventBanned(dispatcher::forgetEvent);
        moderation.onIdentityChanged(changed -> {
            RelayModerationView view = new RelayModerationView(changed);
            relayInfo.show(RelayInfo.render(config, version, changed), view.name(s), view.description(s));
        });
        boolean epoll = Epoll.isAvailable();
        int ioThreads = s.ioThreads() > 0 ? s.ioThreads() : cores;
        bossGroup = epoll ? new EpollEventLoopGroup(1, new DefaultThreadFactory("nexus-accept")) : new NioEventLoopGroup(1, new DefaultThreadFactory("nexus-accept"));
        ioGroup = epoll ? new EpollEventLoopGroup(ioThreads, new DefaultThreadFactory("nexus-io")) : new NioEventLoopGroup(ioThreads, new DefaultThreadFactory("nexus-io"));
        Class<? extends ServerChannel> channelType = epoll ? EpollServerSocketChannel.class : NioServerSocketChannel.class;

        ServerBootstrap b = new ServerBootstrap()
                .group(bossGroup, ioGroup)
                .channel(channelType)
                .option(ChannelOption.SO_BACKLOG, 4096)
                .option(ChannelOption.SO_REUSEADDR, true)
                .childOption(ChannelOption.TCP_NODELAY, true)
                .childOption(ChannelOption.ALLOCATOR, PooledByteBufAllocator.DEFAULT)
                // Past the high-water mark the relay stops reading from a client and paces its query results;
                // past max_outbound_bytes (live fan-out can still add) it drops the client (OutboundBudget).
                .childOption(ChannelOption.WRITE_BUFFER_WATER_MARK, waterMark(config.limits().maxOutboundBytes()))
                .childHandler(new RelayChannelInitializer(config, relayInfo, dispatcher, tls, closes, gate, metrics));
        serverChannel = b.bind(new InetSocketAddress(s.host(), s.port())).sync().channel();
        port = ((InetSocketAddress) serverChannel.localAddress()).getPort();
        String publicUrl = s.publicUrl(port);
        dispatcher.useBoundPort(port);
        if (config.managementServed()) {
            Nip42Auth relayNames = new Nip42Auth(config, verifier, access);
            relayNames.useBoundPort(port);
            java.util.Set<String> operators = new java.util.HashSet<>(config.management().adminPubkeys());
            if (!s.pubkey().isEmpty()) operators.add(s.pubkey());
            management = new dev.nexus.server.nip86.ManagementEndpoint(
                    new dev.nexus.server.nip86.Nip98Authorization(operators, relayNames::namesThisRelay, verifier, clock),
                    new dev.nexus.server.nip86.ManagementApi(moderation));
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
        if (!config.sync().peers().isEmpty()) startPeerSync(verifier);
        int summaryEvery = config.metrics().summaryLogSeconds();
        if (summaryEvery > 0) sweeper.scheduleAtFixedRate(metrics::logSummary, summaryEvery, summaryEvery, TimeUnit.SECONDS);

        log.info("Nexus {} listening on {}:{} (public URL {}, {} transport, {} I/O threads, verifier: {}, auth: {}{}; marketplace: {})",
                version, s.host(), port, publicUrl, epoll ? "epoll" : "nio", ioThreads, verifier.name(),
                config.auth().required().name().toLowerCase(),
                config.auth().openKinds().isEmpty() ? "" : " except open kinds " + config.auth().openKinds(),
                config.marketplace().kinds());
        return this;
    }

    /**
     * [[sync.peers]]: events fetched from peers are stored by the sync and then reach this relay's
     * live subscribers as another writer's commits do (with a cluster feed, the feed carries them).
     */
    private void startPeerSync(SignatureVerifier verifier) {
        EventSigner signer = EventSigner.fromEnvironmentOrFile(System.getenv(EventSigner.ENVIRONMENT_VARIABLE), config.sync().secretKeyFile());
        // The local feed fans the event out on nexus-fanout; a cluster feed ignores this and carries the commit itself.
        java.util.function.Consumer<dev.nexus.core.Event> toSubscribers = liveFeed::committedHere;
        peerSync = new PeerSyncScheduler(new PeerSync(store, verifier, config, signer, toSubscribers, 30_000), config.sync().peers()).start();
        for (NexusConfig.SyncPeer peer : config.sync().peers()) {
            PeerSyncScheduler.PeerTotals t = peerSync.totals(peer.name());
            metrics.counterOf("nexus.sync.events", "Events moved by [[sync.peers]] rounds, by peer and direction", t.fetched()::get,
                    "peer", peer.name(), "direction", "fetched");
            metrics.counterOf("nexus.sync.events", "Events moved by [[sync.peers]] rounds, by peer and direction", t.published()::get,
                    "peer", peer.name(), "direction", "published");
            metrics.counterOf("nexus.sync.rounds", "[[sync.peers]] rounds run, by peer", t.rounds()::get, "peer", peer.name());
            metrics.counterOf("nexus.sync.rounds.failed", "[[sync.peers]] rounds that failed, by peer", t.failedRounds()::get, "peer", peer.name());
        }
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
        if (gate == null) return new MarketplaceBoard.Agents(0, 0);
        java.util.Set<String> pubkeys = new java.util.HashSet<>();
        for (io.netty.channel.Channel ch : gate.open()) {
            Session session = ch.attr(Session.KEY).get();
            if (session != null) pubkeys.addAll(session.authenticatedPubkeys());
        }
        return new MarketplaceBoard.Agents(gate.connections(), pubkeys.size());
    }

    /** What the dashboard shows (GET / for browsers, /dashboard.json). */
    public MarketplaceBoard marketplaceBoard() {
        return board;
    }

    /** The relay's metrics (what {@code GET /metrics} serves). */
    public RelayMetrics metrics() {
        return metrics;
    }

    static WriteBufferWaterMark waterMark(long maxOutboundBytes) {
        int high = (int) Math.min(1024 * 1024, maxOutboundBytes / 2);
        return new WriteBufferWaterMark(high / 4, high);
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

    private static SslContext tlsContext(NexusConfig.Server s) {
        try {
            return SslContextBuilder.forServer(new File(s.tlsCert()), new File(s.tlsKey())).build();
        } catch (SSLException | IllegalArgumentException e) {
            throw new IllegalStateException("[server].tls_cert / tls_key: cannot use " + s.tlsCert() + " and " + s.tlsKey()
                    + " (PEM certificate chain and PKCS#8 PEM key expected): " + e.getMessage(), e);
        }
    }

    public int port() {
        return port;
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
        if (gate != null) answerWhatWasReadThenSayGoodbye();
        if (bossGroup != null) bossGroup.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
        if (ioGroup != null) ioGroup.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
        if (sweeper != null) sweeper.shutdownNow();
        if (management != null) management.close();
        if (verifiers != null) verifiers.shutdown(10, TimeUnit.SECONDS);
        shutdown(queryWorkers);
        if (liveFeed != null) liveFeed.close();
        if (store != null) store.close();
        if (metrics != null) metrics.close();
        log.info("Nexus stopped");
    }

    /**
     * Shutdown without losing an answer: stop reading from every client, wait until every EVENT
     * already read has its OK (sent after commit), then send each WebSocket a close frame.
     */
    private void answerWhatWasReadThenSayGoodbye() {
        for (Channel ch : gate.open()) ReadGate.of(ch).pause(ReadGate.SHUTDOWN);
        dispatcher.refuseNewEvents();
        // An EVENT being handled on an event loop right now may not be counted yet: let every loop finish its current task.
        for (io.netty.util.concurrent.EventExecutor loop : ioGroup) loop.submit(() -> { }).awaitUninterruptibly(2, TimeUnit.SECONDS);
        log.info("shutdown: stopped reading from {} connections; answering what was read", gate.open().size());
        try {
            if (!dispatcher.awaitEventsAnswered(10_000)) log.warn("shutdown: some EVENTs were still unanswered after 10 s");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        List<io.netty.channel.ChannelFuture> goodbyes = new java.util.ArrayList<>();
        for (Channel ch : gate.open()) {
            if (ch.attr(Session.KEY).get() != null) {
                goodbyes.add(ch.writeAndFlush(new io.netty.handler.codec.http.websocketx.CloseWebSocketFrame(1001, "relay shutting down")));
            }
        }
        for (io.netty.channel.ChannelFuture f : goodbyes) f.awaitUninterruptibly(2, TimeUnit.SECONDS);
    }

    private static void shutdown(ExecutorService pool) {
        if (pool == null) return;
        pool.shutdown();
        try {
            pool.awaitTermination(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
