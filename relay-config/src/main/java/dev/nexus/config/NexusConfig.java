package dev.nexus.config;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.toml.TomlMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import dev.nexus.core.KindRanges;
import dev.nexus.core.MarketplaceKinds;
import java.util.Iterator;
import java.util.Map;
import java.util.List;
import java.util.Set;

/**
 * The whole relay configuration: immutable, built and validated once at start. Every key has a
 * default, so an empty file (or none) is a working configuration. See nexus.toml for the
 * documented example and README.md for the reference table. Each table is read and checked by a
 * class of its own ({@code ServerTable}, {@code AuthTable}, ...); the records stay here, as the
 * types the relay reads.
 */
public record NexusConfig(Server server, Storage storage, Auth auth, Limits limits, Retention retention, RateLimits rateLimits,
                          Marketplace marketplace, Sync sync, Metrics metrics, Management management) {

    /** {@code [server]}: where to listen and what NIP-11 says about this relay. */
    public record Server(String host, int port, String name, String url, String description, String contact, String pubkey,
                         int ioThreads, int verifierThreads, int queryThreads, int pingIntervalSeconds, int idleTimeoutSeconds,
                         String realIpHeader, String tlsCert, String tlsKey, List<String> relayNames,
                         int maxConnections, int maxPreUpgradeConnections, int httpRequestTimeoutSeconds, int liveCoalesceMillis,
                         boolean warmUp) {
        /** The configured public URL, or the ws:// (wss:// with TLS) URL of the bind address when none was given. */
        public String publicUrl() {
            return publicUrl(port);
        }

        /** As {@link #publicUrl()}, with the port actually bound (differs when {@code bind} asks for port 0). */
        public String publicUrl(int boundPort) {
            return url.isEmpty() ? (tls() ? "wss://" : "ws://") + (host.contains(":") ? "[" + host + "]" : host) + ":" + boundPort : url;
        }

        /** Whether the relay terminates TLS itself (wss:// and https:// on its port). */
        public boolean tls() {
            return !tlsCert.isEmpty();
        }

        /** Whether the relay listens on a loopback address only (so nobody outside this machine reaches it directly). */
        public boolean loopbackBind() {
            return host.equals("localhost") || host.startsWith("127.") || host.equals("::1") || host.equals("0:0:0:0:0:0:0:1");
        }
    }

    /** Where events are stored: one SQLite file, one LMDB directory, or a PostgreSQL database shared by several nodes. */
    public enum Backend { SQLITE, POSTGRES, LMDB }

    /**
     * {@code [storage]}: the backend; for SQLite the file, how it is written and its WAL bound, for
     * LMDB the directory and the most its file may grow to, for PostgreSQL its libpq-style URI (the
     * password may instead come from NEXUS_PG_PASSWORD or PGPASSWORD).
     */
    public record Storage(Backend backend, String path, String synchronous, int readerPoolSize, int writeBatchMax, long walMaxBytes,
                          String postgresUrl, int postgresConnectTimeoutMs, long lmdbMapBytes) {}

    /** When NIP-42 authentication is demanded. */
    public enum AuthMode { ALWAYS, WRITES, NEVER }

    /**
     * {@code [auth]}: NIP-42 and access lists. {@code openKinds} are kinds that clients which cannot
     * answer NIP-42 (ContextVM's SDK) may publish, and read with filters naming only such kinds,
     * without authenticating.
     */
    public record Auth(AuthMode required, Set<String> allowedPubkeys, Set<String> deniedPubkeys, KindRanges openKinds,
                       boolean allowListCoversAuthors, int maxAuthsInFlight, int maxAuthsPerConnection, int maxFailedAuths,
                       Set<Integer> restrictedKinds, boolean restrictEncryptedJobs) {
        public boolean requiredForReads() { return required == AuthMode.ALWAYS; }
        public boolean requiredForWrites() { return required != AuthMode.NEVER; }

        /** Whether publishing an event of this kind needs an authenticated connection. */
        public boolean requiredToPublish(int kind) {
            return requiredForWrites() && !openKinds.contains(kind);
        }
    }

    /** {@code [limits]}: per-message and per-connection bounds, advertised in NIP-11. */
    public record Limits(int maxMessageBytes, int maxSubscriptions, int maxFilters, int maxLimit, int maxSubidLength,
                         int maxEventTags, int maxContentLength, int maxFilterValues, long createdAtLowerLimit,
                         long createdAtUpperLimit, int maxOutboundBytes, int maxTotalSubscriptions, long maxTotalFilterValues,
                         int maxEventsInFlight, int maxQueuedQueries, int maxQueryMillis, int maxNegentropyEvents, int maxNegentropySessions,
                         KindRanges allowedKinds) {
        /** NIP-77 is served (and advertised) unless {@code max_negentropy_events} is 0. */
        public boolean negentropyEnabled() { return maxNegentropyEvents > 0; }
    }

    /** {@code [retention]}: how long marketplace kinds live (seconds after created_at) and the sweep. */
    public record Retention(long jobRequestSeconds, long jobResultSeconds, long jobFeedbackSeconds,
                            int sweepIntervalSeconds, int sweepBatch) {}

    /** One set of token-bucket budgets (per second and burst; a rate of 0 is unlimited). */
    public record Budget(double eventsPerSecond, int eventsBurst, double jobsPerSecond, int jobsBurst,
                         double reqsPerSecond, int reqsBurst) {
        public static final Budget UNLIMITED = new Budget(0, 1, 0, 1, 0, 1);
    }

    /**
     * {@code [rate_limits]}: token buckets per IP and per authenticated pubkey, and
     * {@code [[rate_limits.pubkey]]} budgets of their own for named pubkeys (a pool's key, a trusted buyer).
     */
    public record RateLimits(double eventsPerSecond, int eventsBurst, double jobsPerSecond, int jobsBurst,
                             double reqsPerSecond, int reqsBurst, int maxConnectionsPerIp, double connectionsPerSecond,
                             int connectionsBurst, List<String> exemptIps, Map<String, Budget> pubkeyBudgets) {
        /** The budget of an IP, and of a pubkey without one of its own. */
        public Budget defaultBudget() {
            return new Budget(eventsPerSecond, eventsBurst, jobsPerSecond, jobsBurst, reqsPerSecond, reqsBurst);
        }

        public Budget budgetOf(String pubkey) {
            Budget own = pubkeyBudgets.get(pubkey);
            return own != null ? own : defaultBudget();
        }
    }

    /**
     * {@code [marketplace]}: which kinds are job requests, results and feedback, and which other
     * agent-protocol kinds count as job traffic; see {@link MarketplaceKinds}.
     */
    public record Marketplace(MarketplaceKinds kinds) {}

    /** Which side of a NIP-77 sync receives the events the other lacks. */
    public enum SyncDirection { DOWN, UP, BOTH }

    /**
     * {@code [sync]}: federation with other relays over NIP-77. {@code secretKeyFile} holds the hex
     * key this relay authenticates with (NIP-42) when a peer asks; the environment variable
     * NEXUS_SYNC_SECRET_KEY overrides it. Each {@code [[sync.peers]]} is reconciled on its interval
     * by the relay's {@code nexus-sync} thread.
     */
    public record Sync(String secretKeyFile, List<SyncPeer> peers) {}

    /**
     * One {@code [[sync.peers]]}: {@code filterJson} is a NIP-01 filter (validated at load);
     * {@code windowSeconds} &gt; 0 replaces its {@code since} with "that many seconds ago" at every round.
     */
    public record SyncPeer(String name, String url, String filterJson, SyncDirection direction, int intervalSeconds, long windowSeconds) {}

    /**
     * {@code [metrics]}: {@code GET /metrics} (Prometheus text format) on the relay's port, served
     * only to loopback clients unless {@code allowRemote}; and the summary log line every
     * {@code summaryLogSeconds} (0: never).
     */
    public record Metrics(boolean enabled, boolean allowRemote, int summaryLogSeconds) {}

    /**
     * {@code [management]}: the NIP-86 management API (JSON-RPC over HTTP POST on the relay's URL),
     * callable by {@code [server] pubkey} and by {@code adminPubkeys}, each call signed with NIP-98.
     */
    public record Management(boolean enabled, Set<String> adminPubkeys) {}

    /** NIP-86 is served (and advertised) when enabled and some key may call it: {@code [server] pubkey} or an admin key. */
    public boolean managementServed() {
        return management.enabled() && (!server.pubkey().isEmpty() || !management.adminPubkeys().isEmpty());
    }

    public static NexusConfig defaults() {
        try {
            return parse("");
        } catch (ConfigException e) {
            throw new IllegalStateException("built-in defaults are invalid", e);
        }
    }

    public static NexusConfig load(Path file) throws ConfigException {
        String text;
        try {
            text = Files.readString(file);
        } catch (IOException e) {
            throw new ConfigException("cannot read config file " + file + ": " + e.getMessage(), e);
        }
        return parse(text);
    }

    public static NexusConfig parse(String toml) throws ConfigException {
        ObjectNode root;
        try {
            JsonNode tree = new TomlMapper().readTree(toml);
            root = tree == null || tree.isMissingNode() || tree.isNull() ? new TomlMapper().createObjectNode() : (ObjectNode) tree;
        } catch (IOException e) {
            throw new ConfigException("config is not valid TOML: " + e.getMessage().lines().findFirst().orElse(""), e);
        }
        Set<String> sections = Set.of("server", "storage", "auth", "limits", "retention", "rate_limits", "marketplace", "sync", "metrics", "management");
        for (Iterator<String> it = root.fieldNames(); it.hasNext(); ) {
            String name = it.next();
            if (!sections.contains(name)) throw new ConfigException("unknown section or key [" + name + "]");
            if (!root.get(name).isObject()) throw new ConfigException("[" + name + "] must be a table");
        }
        NexusConfig config = new NexusConfig(ServerTable.parse(section(root, "server")), StorageTable.parse(section(root, "storage")),
                AuthTable.parse(section(root, "auth")), LimitsTable.parse(section(root, "limits")),
                RetentionTable.parse(section(root, "retention")), RateLimitsTable.parse(section(root, "rate_limits")),
                MarketplaceTable.parse(section(root, "marketplace")), SyncTable.parse(section(root, "sync")),
                MetricsTable.parse(section(root, "metrics")), ManagementTable.parse(section(root, "management")));
        return config;
    }

    private static Section section(ObjectNode root, String name) {
        return new Section(name, (ObjectNode) root.get(name));
    }
}
