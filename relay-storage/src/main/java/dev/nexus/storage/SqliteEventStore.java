package dev.nexus.storage;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import dev.nexus.core.Event;
import dev.nexus.core.Filter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.HashSet;
import java.util.List;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.sqlite.SQLiteConfig;
import org.sqlite.SQLiteDataSource;

/**
 * SQLite in WAL mode. All writes go through one writer thread ({@link SqliteWriter}) that applies
 * {@link WriteRules} in one transaction per batch and completes each write only after that commit.
 * Job traffic (as the retention policy's {@code MarketplaceKinds} define it) has a lane of its own
 * that the writer drains first. Reads ({@link SqliteQueries}) use a small HikariCP pool of read-only
 * connections, which WAL lets run beside the writer without waiting for it; {@link SqliteWal} keeps
 * the write-ahead log bounded.
 */
public final class SqliteEventStore implements EventStore {
    private static final Logger log = LoggerFactory.getLogger(SqliteEventStore.class);
    public static final long DEFAULT_WAL_MAX_BYTES = 64L * 1024 * 1024;
    /** SQLite's default SQLITE_MAX_VARIABLE_NUMBER: bound values one statement can take. */
    public static final int MAX_BOUND_VALUES = SqliteQueries.MAX_BOUND_VALUES;

    private final RetentionPolicy retention;
    private final Connection writeConnection;
    private final HikariDataSource readers;
    private final SqliteQueries queries;
    private final SqliteWal wal;
    private final SqliteWriter writer;
    private final Path dbFile;
    private volatile boolean running = true;
    /** Fault injection for tests: runs inside the writer's transaction before each event is stored. */
    volatile Consumer<Event> beforeStore;

    /** A store with the default WAL bound. */
    public SqliteEventStore(Path file, String synchronous, int readerPoolSize, int batchMax, RetentionPolicy retention) {
        this(file, synchronous, readerPoolSize, batchMax, retention, DEFAULT_WAL_MAX_BYTES, 0);
    }

    public SqliteEventStore(Path file, String synchronous, int readerPoolSize, int batchMax, RetentionPolicy retention, long walMaxBytes) {
        this(file, synchronous, readerPoolSize, batchMax, retention, walMaxBytes, 0);
    }

    /**
     * @param retention   when events stop being served, and which kinds take the writer's job lane
     * @param walMaxBytes when the write-ahead log grows past this, the writer pauses after its batch
     *                    to fold the log into the database and truncate it (see {@link SqliteWal})
     * @param queryBudgetMillis each query and count is interrupted after this long (0: no budget)
     */
    public SqliteEventStore(Path file, String synchronous, int readerPoolSize, int batchMax, RetentionPolicy retention, long walMaxBytes,
                            long queryBudgetMillis) {
        this.retention = retention;
        this.dbFile = file.toAbsolutePath();
        try {
            Path parent = file.toAbsolutePath().getParent();
            if (parent != null) Files.createDirectories(parent);
            String url = "jdbc:sqlite:" + file.toAbsolutePath();
            Properties props = new Properties();
            props.setProperty("journal_mode", "WAL");
            props.setProperty("synchronous", synchronous.toUpperCase());
            props.setProperty("busy_timeout", "10000");
            props.setProperty("temp_store", "MEMORY");
            // The driver's generated keys cost a regex match and a freshly prepared "SELECT last_insert_rowid()"
            // after every INSERT; the writer asks for the rowid itself, with a statement it prepares once.
            props.setProperty(SQLiteConfig.Pragma.JDBC_GET_GENERATED_KEYS.pragmaName, "false");
            writeConnection = DriverManager.getConnection(url, props);
            try (Statement s = writeConnection.createStatement()) {
                s.execute("PRAGMA journal_mode=WAL");
                s.execute("PRAGMA synchronous=" + synchronous.toUpperCase());
                s.execute("PRAGMA cache_size=-32000");
                // Checkpoints (the only fsyncs in WAL mode with synchronous=NORMAL) run on the
                // checkpointer's own connection, so they never stall the writer and the fan-out behind it.
                s.execute("PRAGMA wal_autocheckpoint=0");
                // The log is rewound in place at the bound (SqliteWal); this trims a file that one large batch grew past it.
                s.execute("PRAGMA journal_size_limit=" + walMaxBytes);
            }
            writeConnection.setAutoCommit(false);
            SqliteSchema.migrate(writeConnection);
            wal = new SqliteWal(DriverManager.getConnection(url, props), dbFile, walMaxBytes);
            Set<String> bannedEventIds = new HashSet<>();
            for (Moderation.Entry e : SqliteQueries.readModeration(writeConnection)) {
                if (e.category().equals(Moderation.BANNED_EVENT)) bannedEventIds.add(e.value());
            }
            writer = new SqliteWriter(writeConnection, new WriteRules(retention), batchMax, wal, bannedEventIds, () -> beforeStore);
            writeConnection.commit();

            SQLiteConfig readConfig = new SQLiteConfig();
            readConfig.setReadOnly(true);
            readConfig.setBusyTimeout(10000);
            readConfig.setCacheSize(-4000);
            SQLiteDataSource ds = new SQLiteDataSource(readConfig);
            ds.setUrl(url);
            HikariConfig hc = new HikariConfig();
            hc.setDataSource(ds);
            hc.setPoolName("nexus-readers");
            hc.setMaximumPoolSize(readerPoolSize);
            hc.setMinimumIdle(readerPoolSize);
            hc.setConnectionTimeout(30000);
            hc.setReadOnly(true);
            readers = new HikariDataSource(hc);
        } catch (Exception e) {
            throw new IllegalStateException("cannot open SQLite store at " + file + ": " + e.getMessage(), e);
        }
        queries = new SqliteQueries(readers, queryBudgetMillis);
        wal.start();
        writer.start();
        log.info("SQLite store open at {} (WAL bounded at {} MiB, synchronous={}, {} readers)", file.toAbsolutePath(),
                walMaxBytes / (1024 * 1024), synchronous, readerPoolSize);
    }

    @Override
    public CompletableFuture<WriteResult> write(Event event) {
        return writer.write(event, retention.kinds().isJobTraffic(event.kind()));
    }

    @Override
    public int deleteExpired(long nowSeconds, int batch) {
        return writer.deleteExpired(nowSeconds, batch);
    }

    @Override
    public List<StoredEvent> query(Filter filter, int limit, long nowSeconds) {
        return queries.query(filter, limit, nowSeconds);
    }

    @Override
    public long count(List<Filter> filters, long nowSeconds) {
        return queries.count(filters, nowSeconds);
    }

    /** EXPLAIN QUERY PLAN of the statements a one-filter COUNT runs; for tests and operators. */
    public List<String> explainCount(Filter filter, long nowSeconds) {
        return queries.explainCount(filter, nowSeconds);
    }

    /** EXPLAIN QUERY PLAN for the statement {@link #query} would run; for tests and operators. */
    public List<String> explain(Filter filter, int limit, long nowSeconds) {
        return queries.explain(filter, limit, nowSeconds);
    }

    /** The plan of the statement a REQ runs when ties straddle its limit (tests). */
    List<String> explainOneSecond(Filter filter, long second, int max, long nowSeconds) {
        return queries.explainOneSecond(filter, second, max, nowSeconds);
    }

    @Override
    public int scanIdsAscending(Filter filter, long nowSeconds, int maxItems, IdConsumer consumer) {
        return queries.scanIdsAscending(filter, nowSeconds, maxItems, consumer);
    }

    @Override
    public boolean contains(String id) {
        return queries.contains(id);
    }

    @Override
    public List<Moderation.Entry> moderation() {
        return queries.moderation();
    }

    @Override
    public CompletableFuture<Void> moderate(Moderation.Change change, Moderation.Entry entry) {
        return writer.moderate(change, entry);
    }

    @Override
    public void observeWrites(WriteObserver observer) {
        writer.observe(observer);
    }

    @Override
    public int queuedWrites() {
        return writer.queued();
    }

    /** The database file and its write-ahead log. */
    @Override
    public long sizeOnDiskBytes() {
        try {
            return (Files.exists(dbFile) ? Files.size(dbFile) : 0) + walBytes();
        } catch (java.io.IOException e) {
            return -1;
        }
    }

    /** Size of the write-ahead log file now, in bytes (0 when there is none). */
    public long walBytes() {
        return wal.walBytes();
    }

    /** Prepared statements cached on the reader the pool hands out next; for tests. */
    int cachedReaderStatements() {
        return queries.cachedStatements();
    }

    /** How many times the idle writer has handed its page cache back; for tests. */
    int writerCacheShrinks() {
        return writer.cacheShrinks();
    }

    /** Bytes of the write-ahead log in use (the file is rewound in place, so it can be larger); -1 when unknown. */
    public long walBytesInUse() {
        return wal.walBytesInUse();
    }

    /** How many checkpoints that reset the log (so the next write rewinds it) completed, and how many readers kept from completing. */
    public long walTruncations() {
        return wal.truncations();
    }

    /** The WAL policy, for tests in this package. */
    SqliteWal wal() {
        return wal;
    }

    public long walTruncationsBusy() {
        return wal.busyTruncations();
    }

    @Override
    public void close() {
        if (!running) return;
        running = false;
        wal.stopCheckpointer();
        try {
            writer.close();
        } catch (SQLException e) {
            log.warn("closing the SQLite writer's statements: {}", e.getMessage());
        }
        readers.close();
        try {
            wal.close();
            // The last connection to close checkpoints and removes the WAL.
            writeConnection.close();
        } catch (SQLException e) {
            log.warn("closing the SQLite writer: {}", e.getMessage());
        }
        wal.releaseWalIndex();
        log.info("SQLite store closed");
    }
}
