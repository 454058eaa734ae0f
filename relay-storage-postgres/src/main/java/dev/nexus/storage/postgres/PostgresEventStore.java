package dev.nexus.storage.postgres;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import dev.nexus.core.Event;
import dev.nexus.core.Filter;
import dev.nexus.storage.EventStore;
import dev.nexus.storage.RetentionPolicy;
import dev.nexus.storage.StoreException;
import dev.nexus.storage.StoredEvent;
import dev.nexus.storage.WriteResult;
import dev.nexus.storage.WriteRules;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * PostgreSQL, shared by any number of relay nodes. As on SQLite, one writer thread per node
 * ("nexus-writer") drains its two-lane queue into one transaction per batch (group commit) and
 * completes each write only after that commit; reads use a pool of read-only connections.
 *
 * <p>What differs is that other nodes write the same tables at the same time: see
 * {@link PostgresTransaction} for how the write rules stay correct (per-author advisory locks) and
 * {@link PostgresLiveFeed} for how every node learns of every commit. Expiry sweeps run on a
 * pooled connection, not the writer: rows being swept are claimed with {@code FOR UPDATE SKIP
 * LOCKED}, so sweeps from several nodes take disjoint rows and never wait for each other.
 *
 * <p>When the database is unreachable, a batch fails after at most the pool's connection timeout
 * and each of its writes is answered {@code error:}; the writer thread carries on with the next
 * batch, and HikariCP reconnects once the database is back.
 */
public final class PostgresEventStore implements EventStore {
    private static final Logger log = LoggerFactory.getLogger(PostgresEventStore.class);
    /** How long the live feed keeps rows for nodes that were briefly disconnected. */
    static final int FEED_RETENTION_SECONDS = 600;

    private final PostgresLocation location;
    private final RetentionPolicy retention;
    private final HikariDataSource writers;
    private final HikariDataSource readers;
    private final PostgresQueries queries;
    private final PostgresWriter writer;
    private volatile boolean running = true;
    /** Serializes this node's moderation changes with the reads that refresh the writer's banned ids. */
    private final Object moderationLock = new Object();
    /**
     * @param connectTimeoutMillis how long a write or query waits for a connection before it is
     *        answered with an error (the bound on "the database is gone")
     */
    public PostgresEventStore(PostgresLocation location, int readerPoolSize, int batchMax, RetentionPolicy retention,
                              long connectTimeoutMillis) {
        this.location = location;
        this.retention = retention;
        writers = pool("nexus-pg-writer", 2, false, connectTimeoutMillis);
        readers = pool("nexus-pg-readers", readerPoolSize, true, connectTimeoutMillis);
        java.util.Set<String> banned = new java.util.HashSet<>();
        try (Connection c = writers.getConnection()) {
            PostgresSchema.migrate(c);
            // On the writer's connection: the readers' pool stays empty until the first query, as before moderation existed.
            for (dev.nexus.storage.Moderation.Entry e : PostgresQueries.readModeration(c)) {
                if (e.category().equals(dev.nexus.storage.Moderation.BANNED_EVENT)) banned.add(e.value());
            }
            c.commit();
        } catch (SQLException e) {
            writers.close();
            readers.close();
            throw new IllegalStateException("cannot open the PostgreSQL store at " + location.display() + ": " + e.getMessage(), e);
        }
        queries = new PostgresQueries(readers);
        writer = new PostgresWriter(writers, new WriteRules(retention), batchMax, banned);
        log.info("PostgreSQL store open at {} ({} readers, batches of up to {})", location.display(), readerPoolSize, batchMax);
    }

    public PostgresEventStore(String uri, int readerPoolSize, int batchMax, RetentionPolicy retention) {
        this(PostgresLocation.parse(uri), readerPoolSize, batchMax, retention, 5000);
    }

    private HikariDataSource pool(String name, int size, boolean readOnly, long connectTimeoutMillis) {
        HikariConfig hc = new HikariConfig();
        hc.setPoolName(name);
        hc.setJdbcUrl(location.jdbcUrl());
        hc.setDataSourceProperties(location.with(Map.of(
                "ApplicationName", name,
                // A dead server or network is noticed instead of waited on forever.
                "connectTimeout", String.valueOf(Math.max(1, connectTimeoutMillis / 1000)),
                "socketTimeout", "60",
                "tcpKeepAlive", "true",
                // A node that dies or hangs mid-transaction must not keep its author locks for long.
                "options", "-c lock_timeout=15s -c idle_in_transaction_session_timeout=60s")));
        hc.setMaximumPoolSize(size);
        hc.setMinimumIdle(0);
        hc.setConnectionTimeout(Math.max(250, connectTimeoutMillis));
        hc.setInitializationFailTimeout(-1);
        hc.setAutoCommit(readOnly);
        hc.setReadOnly(readOnly);
        hc.setTransactionIsolation("TRANSACTION_READ_COMMITTED");
        return new HikariDataSource(hc);
    }

    @Override
    public CompletableFuture<WriteResult> write(Event event) {
        return writer.enqueue(event, false, retention.kinds().isJobTraffic(event.kind()));
    }

    /** Puts an ephemeral event on the cluster's live feed without storing it (see {@link PostgresLiveFeed#publish}). */
    CompletableFuture<WriteResult> publishEphemeral(Event event) {
        return writer.enqueue(event, true, retention.kinds().isJobTraffic(event.kind()));
    }

    @Override
    public List<StoredEvent> query(Filter filter, int limit, long nowSeconds) {
        return queries.query(filter, limit, nowSeconds);
    }

    @Override
    public int scanIdsAscending(Filter filter, long nowSeconds, int maxItems, IdConsumer consumer) {
        return queries.scanIdsAscending(filter, nowSeconds, maxItems, consumer);
    }

    @Override
    public long count(List<Filter> filters, long nowSeconds) {
        return queries.count(filters, nowSeconds);
    }

    /** EXPLAIN for the statement {@link #query} would run (custom plan, parameters bound); for tests and operators. */
    public List<String> explain(Filter filter, int limit, long nowSeconds) {
        return queries.explain(filter, limit, nowSeconds);
    }

    @Override
    public boolean contains(String id) {
        return queries.contains(id);
    }

    /**
     * Removes up to {@code batch} expired events, skipping rows another node's sweep (or a writer)
     * holds, and prunes the live feed (one node at a time). Runs on the caller's thread.
     */
    @Override
    public int deleteExpired(long nowSeconds, int batch) {
        if (!running) return 0;
        try (Connection c = writers.getConnection()) {
            try {
                int removed;
                try (PreparedStatement ps = c.prepareStatement("""
                        WITH doomed AS (
                          SELECT seq FROM event WHERE expires_at IS NOT NULL AND expires_at <= ?
                          ORDER BY expires_at LIMIT ? FOR UPDATE SKIP LOCKED),
                        gone AS (DELETE FROM event WHERE seq IN (SELECT seq FROM doomed) RETURNING seq)
                        SELECT count(*) FROM gone""")) {
                    ps.setLong(1, nowSeconds);
                    ps.setInt(2, batch);
                    try (ResultSet rs = ps.executeQuery()) {
                        rs.next();
                        removed = rs.getInt(1);
                    }
                }
                try (Statement s = c.createStatement();
                     ResultSet rs = s.executeQuery("SELECT pg_try_advisory_xact_lock(" + Locks.NAMESPACE + ", " + Locks.FEED_PRUNE + ")")) {
                    if (rs.next() && rs.getBoolean(1)) {
                        s.executeUpdate("DELETE FROM live_feed WHERE committed_at < now() - interval '" + FEED_RETENTION_SECONDS + " seconds'");
                    }
                }
                c.commit();
                return removed;
            } catch (SQLException e) {
                c.rollback();
                throw e;
            }
        } catch (SQLException e) {
            log.warn("expiry sweep failed: {}", e.getMessage());
            return 0;
        }
    }

    @Override
    public List<dev.nexus.storage.Moderation.Entry> moderation() {
        // Other nodes ban events too: the writer's set follows the table whenever the relay reads it
        // (at start and at each refresh), under the lock of this node's own changes so that a read
        // taken before one of them cannot overwrite it.
        synchronized (moderationLock) {
            List<dev.nexus.storage.Moderation.Entry> entries = queries.moderation();
            java.util.Set<String> banned = new java.util.HashSet<>();
            for (dev.nexus.storage.Moderation.Entry e : entries) {
                if (e.category().equals(dev.nexus.storage.Moderation.BANNED_EVENT)) banned.add(e.value());
            }
            if (!banned.equals(writer.bannedEventIds())) writer.bannedEventIds(banned);
            return entries;
        }
    }

    /** One transaction on the caller's thread (an operator's call, rare); a banned event's tags go with it (ON DELETE CASCADE). */
    @Override
    public CompletableFuture<Void> moderate(dev.nexus.storage.Moderation.Change change, dev.nexus.storage.Moderation.Entry entry) {
        synchronized (moderationLock) {
            return moderateNow(change, entry);
        }
    }

    private CompletableFuture<Void> moderateNow(dev.nexus.storage.Moderation.Change change, dev.nexus.storage.Moderation.Entry entry) {
        try (Connection c = writers.getConnection()) {
            try {
                PostgresModeration.apply(c, change, entry);
                boolean bansEvent = entry.category().equals(dev.nexus.storage.Moderation.BANNED_EVENT);
                c.commit();
                if (bansEvent) {
                    java.util.Set<String> banned = new java.util.HashSet<>(writer.bannedEventIds());
                    if (change == dev.nexus.storage.Moderation.Change.REMOVE) banned.remove(entry.value());
                    else banned.add(entry.value());
                    writer.bannedEventIds(banned);
                }
                return CompletableFuture.completedFuture(null);
            } catch (SQLException e) {
                c.rollback();
                throw e;
            }
        } catch (SQLException e) {
            return CompletableFuture.failedFuture(new dev.nexus.storage.StoreException("could not record the moderation change: " + e.getMessage(), e));
        }
    }

    @Override
    public void observeWrites(WriteObserver observer) {
        writer.observe(observer);
    }

    @Override
    public int queuedWrites() {
        return writer.queued();
    }

    /** The whole database's size (every node shares it); -1 while it cannot be reached. */
    @Override
    public long sizeOnDiskBytes() {
        return queries.sizeOnDiskBytes();
    }

    @Override
    public void close() {
        if (!running) return;
        running = false;
        writer.close();
        readers.close();
        writers.close();
        log.info("PostgreSQL store closed");
    }

    PostgresLocation location() {
        return location;
    }
}
