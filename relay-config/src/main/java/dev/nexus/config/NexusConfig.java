package dev.nexus.config;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.toml.TomlMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import dev.nexus.core.KindRanges;
import dev.nexus.core.MarketplaceKinds;
import java.util.Collections;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * The whole relay configuration: immutable, built and validated once at start. Every key has a
 * default, so an empty file (or none) is a working configuration. See nexus.toml for the
 * documented example and README.md for the reference table.
 */
public record NexusConfig(Server server, Storage storage, Auth auth, Limits limits, Retention retention, RateLimits rateLimits,
                          Marketplace marketplace, Sync sync, Metrics metrics, Management management) {

    /** {@code [server]}: where to listen and what NIP-11 says about this relay. */
    public record Server(String host, int port, String name, String url, String description, String contact, String pubkey,
                         int ioThreads, int verifierThreads, int queryThreads, int pingIntervalSeconds, int idleTimeoutSeconds,
                         String realIpHeader, String tlsCert, String tlsKey, List<String> relayNames,
                         int maxConnections, int maxPreUpgradeConnections, int httpRequestTimeoutSeconds) {
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

    /** Where events are stored: one SQLite file, or a PostgreSQL database shared by several nodes. */
    public enum Backend { SQLITE, POSTGRES }

    /**
     * {@code [storage]}: the backend; for SQLite the file, how it is written and its WAL bound, for
     * PostgreSQL its libpq-style URI (the password may instead come from NEXUS_PG_PASSWORD or PGPASSWORD).
     */
    public record Storage(Backend backend, String path, String synchronous, int readerPoolSize, int writeBatchMax, long walMaxBytes,
                          String postgresUrl, int postgresConnectTimeoutMs) {}

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
                             double reqsPerSecond, int reqsBurst, int maxConnectionsPerIp, List<String> exemptIps,
                             Map<String, Budget> pubkeyBudgets) {
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
        NexusConfig config = new NexusConfig(server(section(root, "server")), storage(section(root, "storage")),
                auth(section(root, "auth")), limits(section(root, "limits")), retention(section(root, "retention")),
                rateLimits(section(root, "rate_limits")), marketplace(section(root, "marketplace")), sync(section(root, "sync")),
                metrics(section(root, "metrics")), management(section(root, "management")));
        return config;
    }

    private static Section section(ObjectNode root, String name) {
        return new Section(name, (ObjectNode) root.get(name));
    }

    private static Server server(Section s) throws ConfigException {
        String bind = s.string("bind", "127.0.0.1:7777");
        int colon = bind.lastIndexOf(':');
        if (colon <= 0) throw new ConfigException(s.key("bind") + " must be host:port, got \"" + bind + "\"");
        String host = bind.substring(0, colon);
        if (host.startsWith("[") && host.endsWith("]")) host = host.substring(1, host.length() - 1);
        int port;
        try {
            port = Integer.parseInt(bind.substring(colon + 1));
        } catch (NumberFormatException e) {
            throw new ConfigException(s.key("bind") + " must end in a numeric port, got \"" + bind + "\"");
        }
        if (port < 0 || port > 65535) throw new ConfigException(s.key("bind") + " port must be between 0 and 65535");
        String url = s.string("url", "");
        if (!url.isEmpty() && !(url.startsWith("ws://") || url.startsWith("wss://"))) {
            throw new ConfigException(s.key("url") + " must be a ws:// or wss:// URL");
        }
        String pubkey = s.string("pubkey", "");
        if (!pubkey.isEmpty() && !isHex64(pubkey)) throw new ConfigException(s.key("pubkey") + " must be 64 lowercase hex characters");
        int ping = s.integer("ping_interval_seconds", 30, 1, 3600);
        String realIpHeader = s.string("real_ip_header", "").trim();
        if (!realIpHeader.isEmpty() && !realIpHeader.matches("[A-Za-z0-9-]+")) {
            throw new ConfigException(s.key("real_ip_header") + " must be an HTTP header name, e.g. \"X-Forwarded-For\"");
        }
        String tlsCert = s.string("tls_cert", "");
        String tlsKey = s.string("tls_key", "");
        if (tlsCert.isEmpty() != tlsKey.isEmpty()) {
            throw new ConfigException(s.key(tlsCert.isEmpty() ? "tls_cert" : "tls_key") + " must be set too: TLS needs both a certificate and its key");
        }
        for (String key : List.of("tls_cert", "tls_key")) {
            String file = key.equals("tls_cert") ? tlsCert : tlsKey;
            if (!file.isEmpty() && !Files.isReadable(Path.of(file))) throw new ConfigException(s.key(key) + ": cannot read " + file);
        }
        List<String> relayNames = s.strings("relay_names", List.of());
        for (String name : relayNames) {
            if (name.isBlank() || !name.matches("(wss?://)?[A-Za-z0-9.:\\[\\]_-]+/?")) {
                throw new ConfigException(s.key("relay_names") + " entries must be host names, host:port or ws(s):// URLs, got \"" + name + "\"");
            }
        }
        Server server = new Server(host, port,
                s.string("name", "Nexus"),
                url,
                s.string("description", "Nexus: a Nostr relay for the agent compute marketplace (NIP-90 jobs, NIP-89 handlers)"),
                s.string("contact", ""),
                pubkey,
                s.integer("io_threads", 0, 0, 256),
                s.integer("verifier_threads", 0, 0, 256),
                s.integer("query_threads", 0, 0, 256),
                ping,
                s.integer("idle_timeout_seconds", 3 * ping, 2, 36000),
                realIpHeader, tlsCert, tlsKey, relayNames,
                s.integer("max_connections", 10000, 1, 10_000_000),
                s.integer("max_pre_upgrade_connections", 1000, 1, 10_000_000),
                s.integer("http_request_timeout_seconds", 10, 1, 3600));
        if (server.idleTimeoutSeconds() <= ping) {
            throw new ConfigException(s.key("idle_timeout_seconds") + " must be longer than ping_interval_seconds");
        }
        s.rejectUnknownKeys();
        return server;
    }

    private static Storage storage(Section s) throws ConfigException {
        String backendName = s.string("backend", "sqlite").toLowerCase(Locale.ROOT);
        Backend backend = switch (backendName) {
            case "sqlite" -> Backend.SQLITE;
            case "postgres", "postgresql" -> Backend.POSTGRES;
            default -> throw new ConfigException(s.key("backend") + " must be \"sqlite\" or \"postgres\"");
        };
        String sync = s.string("synchronous", "normal").toLowerCase(Locale.ROOT);
        if (!sync.equals("normal") && !sync.equals("full")) throw new ConfigException(s.key("synchronous") + " must be \"normal\" or \"full\"");
        String path = s.string("path", "./data/nexus.db");
        if (path.isBlank()) throw new ConfigException(s.key("path") + " must not be empty");
        String postgresUrl = s.string("postgres_url", "");
        if (backend == Backend.POSTGRES && postgresUrl.isBlank()) {
            throw new ConfigException(s.key("postgres_url") + " must be set when backend = \"postgres\", e.g. \"postgresql://127.0.0.1:5432/nexus?user=nexus\"");
        }
        if (!postgresUrl.isEmpty() && !(postgresUrl.startsWith("postgresql://") || postgresUrl.startsWith("postgres://"))) {
            throw new ConfigException(s.key("postgres_url") + " must be a libpq-style URI starting with postgresql://");
        }
        Storage storage = new Storage(backend, path, sync, s.integer("reader_pool_size", 4, 1, 64), s.integer("write_batch_max", 1024, 1, 100000),
                s.integer("wal_max_bytes", 64L * 1024 * 1024, 256L * 1024, Long.MAX_VALUE),
                postgresUrl, s.integer("postgres_connect_timeout_ms", 5000, 100, 600000));
        s.rejectUnknownKeys();
        return storage;
    }

    private static Auth auth(Section s) throws ConfigException {
        JsonNode required = s.raw("required");
        AuthMode mode;
        if (required == null || (required.isBoolean() && required.asBoolean())) mode = AuthMode.ALWAYS;
        else if (required.isBoolean()) mode = AuthMode.NEVER;
        else if (required.isTextual() && required.asText().equals("writes")) mode = AuthMode.WRITES;
        else throw new ConfigException(s.key("required") + " must be true, false or \"writes\"");
        Set<String> allowed = hexSet(s, "allowed_pubkeys");
        Set<String> denied = hexSet(s, "denied_pubkeys");
        KindRanges open = s.kindRanges("open_kinds", KindRanges.NONE);
        boolean coversAuthors = s.bool("allow_list_covers_authors", true);
        int inFlight = s.integer("max_auths_in_flight", 2, 1, 100);
        int perConnection = s.integer("max_auths_per_connection", 20, 1, 10000);
        int failed = s.integer("max_failed_auths", 3, 1, 10000);
        Set<Integer> restricted = Set.copyOf(s.integers("restricted_kinds", List.of(4, 1059), 0, 65535));
        boolean encryptedJobs = s.bool("restrict_encrypted_jobs", true);
        s.rejectUnknownKeys();
        return new Auth(mode, allowed, denied, open, coversAuthors, inFlight, perConnection, failed, restricted, encryptedJobs);
    }

    private static Set<String> hexSet(Section s, String key) throws ConfigException {
        List<String> values = s.strings(key, List.of());
        for (String v : values) if (!isHex64(v)) throw new ConfigException(s.key(key) + " entries must be 64 lowercase hex characters, got \"" + v + "\"");
        return Set.copyOf(values);
    }

    private static Limits limits(Section s) throws ConfigException {
        Limits limits = new Limits(
                s.integer("max_message_bytes", 524288, 1024, 64 * 1024 * 1024),
                s.integer("max_subscriptions", 20, 1, 10000),
                s.integer("max_filters", 10, 1, 1000),
                s.integer("max_limit", 500, 1, 100000),
                s.integer("max_subid_length", 64, 1, 1024),
                s.integer("max_event_tags", 2000, 1, 100000),
                s.integer("max_content_length", 102400, 1, 64 * 1024 * 1024),
                s.integer("max_filter_values", 1000, 1, 100000),
                s.integer("created_at_lower_limit", 0L, 0L, Long.MAX_VALUE),
                s.integer("created_at_upper_limit", 900L, 0L, Long.MAX_VALUE),
                s.integer("max_outbound_bytes", 8 * 1024 * 1024, 64 * 1024, 1024 * 1024 * 1024),
                s.integer("max_total_subscriptions", 100_000, 1, 100_000_000),
                s.integer("max_total_filter_values", 2_000_000L, 1L, Long.MAX_VALUE),
                s.integer("max_events_in_flight", 20_000, 1, 10_000_000),
                s.integer("max_queued_queries", 2_000, 1, 10_000_000),
                s.integer("max_query_millis", 2_000, 0, 3_600_000),
                s.integer("max_negentropy_events", 500_000, 0, 50_000_000),
                s.integer("max_negentropy_sessions", 4, 1, 1000),
                s.kindRanges("allowed_kinds", KindRanges.NONE));
        s.rejectUnknownKeys();
        return limits;
    }

    private static Retention retention(Section s) throws ConfigException {
        Retention retention = new Retention(
                s.integer("job_request_seconds", 86400L, 0L, Long.MAX_VALUE),
                s.integer("job_result_seconds", 7 * 86400L, 0L, Long.MAX_VALUE),
                s.integer("job_feedback_seconds", 86400L, 0L, Long.MAX_VALUE),
                s.integer("sweep_interval_seconds", 60, 1, 86400),
                s.integer("sweep_batch", 500, 1, 100000));
        s.rejectUnknownKeys();
        return retention;
    }

    private static RateLimits rateLimits(Section s) throws ConfigException {
        Budget def = budget(s, new Budget(50, 200, 200, 500, 50, 200));
        int maxConnections = s.integer("max_connections_per_ip", 256, 0, Integer.MAX_VALUE);
        List<String> exempt = s.strings("exempt_ips", List.of("127.0.0.1", "::1"));
        Map<String, Budget> own = new LinkedHashMap<>();
        for (Section p : s.tables("pubkey")) {
            String pubkey = p.string("pubkey", "");
            if (!isHex64(pubkey)) throw new ConfigException(p.key("pubkey") + " must be 64 lowercase hex characters");
            if (own.containsKey(pubkey)) throw new ConfigException(p.key("pubkey") + ": " + pubkey + " has a budget already");
            own.put(pubkey, budget(p, def));
            p.rejectUnknownKeys();
        }
        RateLimits r = new RateLimits(def.eventsPerSecond(), def.eventsBurst(), def.jobsPerSecond(), def.jobsBurst(),
                def.reqsPerSecond(), def.reqsBurst(), maxConnections, exempt, Collections.unmodifiableMap(own));
        s.rejectUnknownKeys();
        return r;
    }

    /** The six budget keys of a table; what it leaves out comes from {@code inherited}. */
    private static Budget budget(Section s, Budget inherited) throws ConfigException {
        return new Budget(
                s.number("events_per_second", inherited.eventsPerSecond(), 0, 1e9),
                s.integer("events_burst", inherited.eventsBurst(), 1, Integer.MAX_VALUE),
                s.number("jobs_per_second", inherited.jobsPerSecond(), 0, 1e9),
                s.integer("jobs_burst", inherited.jobsBurst(), 1, Integer.MAX_VALUE),
                s.number("reqs_per_second", inherited.reqsPerSecond(), 0, 1e9),
                s.integer("reqs_burst", inherited.reqsBurst(), 1, Integer.MAX_VALUE));
    }

    private static Marketplace marketplace(Section s) throws ConfigException {
        MarketplaceKinds d = MarketplaceKinds.DEFAULT;
        Marketplace m = new Marketplace(new MarketplaceKinds(
                s.kindRanges("job_kinds", d.jobRequests()),
                s.kindRanges("result_kinds", d.jobResults()),
                s.kindRanges("feedback_kinds", d.jobFeedback()),
                s.kindRanges("agent_kinds", d.agentMessages())));
        s.rejectUnknownKeys();
        return m;
    }

    private static Sync sync(Section s) throws ConfigException {
        String keyFile = s.string("secret_key_file", "");
        List<SyncPeer> peers = new java.util.ArrayList<>();
        Set<String> names = new java.util.HashSet<>();
        for (Section p : s.tables("peers")) {
            String url = p.string("url", "");
            if (!url.startsWith("ws://") && !url.startsWith("wss://")) throw new ConfigException(p.key("url") + " must be a ws:// or wss:// URL, got \"" + url + "\"");
            try {
                java.net.URI uri = new java.net.URI(url);
                if (uri.getHost() == null) throw new ConfigException(p.key("url") + " has no host: \"" + url + "\"");
            } catch (java.net.URISyntaxException e) {
                throw new ConfigException(p.key("url") + " is not a valid URL: " + e.getMessage());
            }
            String name = p.string("name", url);
            if (!names.add(name)) throw new ConfigException(p.key("name") + ": a peer named \"" + name + "\" is configured already");
            String filter = p.string("filter", "{}");
            try {
                new dev.nexus.core.ClientMessageParser(new dev.nexus.core.ProtocolLimits(2000, 102400, 1, 64, 1_000_000))
                        .parse("[\"REQ\",\"sync\"," + filter + "]");
            } catch (Exception e) {
                throw new ConfigException(p.key("filter") + " must be a NIP-01 filter as JSON, e.g. '{\"kinds\":[31990]}': "
                        + (e.getMessage() == null ? e.toString() : e.getMessage().replaceFirst("^invalid: ", "")));
            }
            String dir = p.string("direction", "down");
            SyncDirection direction = switch (dir) {
                case "down" -> SyncDirection.DOWN;
                case "up" -> SyncDirection.UP;
                case "both" -> SyncDirection.BOTH;
                default -> throw new ConfigException(p.key("direction") + " must be \"down\", \"up\" or \"both\", got \"" + dir + "\"");
            };
            int interval = p.integer("interval_seconds", 300, 1, 7 * 86400);
            long window = p.integer("window_seconds", 0L, 0L, 100L * 365 * 86400);
            p.rejectUnknownKeys();
            peers.add(new SyncPeer(name, url, filter, direction, interval, window));
        }
        s.rejectUnknownKeys();
        return new Sync(keyFile, List.copyOf(peers));
    }

    private static Metrics metrics(Section s) throws ConfigException {
        Metrics m = new Metrics(s.bool("enabled", true), s.bool("allow_remote", false), s.integer("summary_log_seconds", 60, 0, 86400));
        s.rejectUnknownKeys();
        return m;
    }

    private static Management management(Section s) throws ConfigException {
        Management m = new Management(s.bool("enabled", true), hexSet(s, "admin_pubkeys"));
        s.rejectUnknownKeys();
        return m;
    }

    private static boolean isHex64(String s) {
        if (s.length() != 64) return false;
        for (int i = 0; i < 64; i++) {
            char c = s.charAt(i);
            if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
        }
        return true;
    }
}
