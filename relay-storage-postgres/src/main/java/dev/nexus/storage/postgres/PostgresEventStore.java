package dev.nexus.storage.postgres;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import dev.nexus.core.Event;
import dev.nexus.core.Filter;
import dev.nexus.core.TwoLaneQueue;
import dev.nexus.storage.EventStore;
import dev.nexus.storage.RetentionPolicy;
import dev.nexus.storage.StoreException;
import dev.nexus.storage.StoredEvent;
import dev.nexus.storage.WriteResult;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
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

    private record WriteTask(Event event, boolean ephemeral, CompletableFuture<WriteResult> done) {}

    private final PostgresLocation location;
    private final RetentionPolicy retention;
    private final int batchMax;
    private final HikariDataSource writers;
    private final HikariDataSource readers;
    private final TwoLaneQueue<WriteTask> tasks = new TwoLaneQueue<>();
    private final Thread writer;
    private volatile boolean running = true;
    private volatile boolean databaseDown;
    private volatile WriteObserver writeObserver = (writes, nanos) -> { };
    /**
     * Operator-banned event ids (NIP-86) as this node knows them: loaded at start and changed by
     * this node's moderation calls (another node's ban deletes the event for everyone at once, but
     * reaches this node's write check only when it restarts).
     */
    private volatile java.util.Set<String> bannedEventIds = java.util.Set.of();

    /**
     * @param connectTimeoutMillis how long a write or query waits for a connection before it is
     *        answered with an error (the bound on "the database is gone")
     */
    public PostgresEventStore(PostgresLocation location, int readerPoolSize, int batchMax, RetentionPolicy retention,
                              long connectTimeoutMillis) {
        this.location = location;
        this.retention = retention;
        this.batchMax = batchMax;
        writers = pool("nexus-pg-writer", 2, false, connectTimeoutMillis);
        readers = pool("nexus-pg-readers", readerPoolSize, true, connectTimeoutMillis);
        java.util.Set<String> banned = new java.util.HashSet<>();
        try (Connection c = writers.getConnection()) {
            PostgresSchema.migrate(c);
            // On the writer's connection: the readers' pool stays empty until the first query, as before moderation existed.
            for (dev.nexus.storage.Moderation.Entry e : readModeration(c)) {
                if (e.category().equals(dev.nexus.storage.Moderation.BANNED_EVENT)) banned.add(e.value());
            }
            c.commit();
        } catch (SQLException e) {
            writers.close();
            readers.close();
            throw new IllegalStateException("cannot open the PostgreSQL store at " + location.display() + ": " + e.getMessage(), e);
        }
        bannedEventIds = java.util.Set.copyOf(banned);
        writer = new Thread(this::writeLoop, "nexus-writer");
        writer.start();
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
        return enqueue(event, false);
    }

    /** Puts an ephemeral event on the cluster's live feed without storing it (see {@link PostgresLiveFeed#publish}). */
    CompletableFuture<WriteResult> publishEphemeral(Event event) {
        return enqueue(event, true);
    }

    private CompletableFuture<WriteResult> enqueue(Event event, boolean ephemeral) {
        CompletableFuture<WriteResult> done = new CompletableFuture<>();
        if (!running) {
            done.complete(WriteResult.error("relay is shutting down"));
            return done;
        }
        tasks.add(new WriteTask(event, ephemeral, done), retention.kinds().isJobTraffic(event.kind()));
        return done;
    }

    // ---------------------------------------------------------------- reads

    @Override
    public List<StoredEvent> query(Filter filter, int limit, long nowSeconds) {
        if (filter.matchesNothing() || limit <= 0) return List.of();
        PostgresFilterQuery q = PostgresFilterQuery.of(filter, limit, nowSeconds);
        try (Connection c = readers.getConnection(); PreparedStatement ps = c.prepareStatement(q.sql())) {
            PostgresFilterQuery.bind(c, ps, q.params());
            List<StoredEvent> out = new ArrayList<>(Math.min(limit, 64));
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) out.add(new StoredEvent(rs.getString(1), rs.getLong(2), rs.getBytes(3)));
            }
            return out;
        } catch (SQLException e) {
            throw new StoreException("query failed: " + e.getMessage(), e);
        }
    }

    @Override
    public int scanIdsAscending(Filter filter, long nowSeconds, int maxItems, IdConsumer consumer) {
        if (filter.matchesNothing() || maxItems <= 0 || (filter.limit() != null && filter.limit() == 0)) return 0;
        PostgresFilterQuery q = PostgresFilterQuery.idsAscending(filter, maxItems, nowSeconds);
        try (Connection c = readers.getConnection()) {
            // The driver streams with a fetch size only inside a transaction; otherwise it buffers every row.
            c.setAutoCommit(false);
            try (PreparedStatement ps = c.prepareStatement(q.sql())) {
                PostgresFilterQuery.bind(c, ps, q.params());
                ps.setFetchSize(1024);
                int n = 0;
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        consumer.accept(rs.getLong(2), rs.getString(1));
                        n++;
                    }
                }
                return n;
            } finally {
                c.rollback();
                c.setAutoCommit(true);
            }
        } catch (SQLException e) {
            throw new StoreException("id scan failed: " + e.getMessage(), e);
        }
    }

    @Override
    public long count(List<Filter> filters, long nowSeconds) {
        List<String> selects = new ArrayList<>();
        List<Object> params = new ArrayList<>();
        for (Filter f : filters) {
            if (f.matchesNothing()) continue;
            PostgresFilterQuery q = PostgresFilterQuery.idsOf(f, nowSeconds);
            selects.add(q.sql());
            params.addAll(q.params());
        }
        if (selects.isEmpty()) return 0;
        // UNION (not UNION ALL): an event matched by two filters counts once.
        String sql = "SELECT count(*) FROM (" + String.join(" UNION ", selects) + ") AS matched";
        try (Connection c = readers.getConnection(); PreparedStatement ps = c.prepareStatement(sql)) {
            PostgresFilterQuery.bind(c, ps, params);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? rs.getLong(1) : 0;
            }
        } catch (SQLException e) {
            throw new StoreException("count failed: " + e.getMessage(), e);
        }
    }

    /** EXPLAIN for the statement {@link #query} would run (custom plan, parameters bound); for tests and operators. */
    public List<String> explain(Filter filter, int limit, long nowSeconds) {
        PostgresFilterQuery q = PostgresFilterQuery.of(filter, limit, nowSeconds);
        try (Connection c = readers.getConnection(); PreparedStatement ps = c.prepareStatement("EXPLAIN " + q.sql())) {
            PostgresFilterQuery.bind(c, ps, q.params());
            List<String> out = new ArrayList<>();
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) out.add(rs.getString(1));
            }
            return out;
        } catch (SQLException e) {
            throw new StoreException("explain failed: " + e.getMessage(), e);
        }
    }

    @Override
    public boolean contains(String id) {
        try (Connection c = readers.getConnection(); PreparedStatement ps = c.prepareStatement("SELECT 1 FROM event WHERE id = ?")) {
            ps.setString(1, id);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next();
            }
        } catch (SQLException e) {
            throw new StoreException("lookup failed: " + e.getMessage(), e);
        }
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
        try (Connection c = readers.getConnection()) {
            return readModeration(c);
        } catch (SQLException e) {
            throw new dev.nexus.storage.StoreException("reading moderation state failed: " + e.getMessage(), e);
        }
    }

    private static List<dev.nexus.storage.Moderation.Entry> readModeration(Connection c) throws SQLException {
        List<dev.nexus.storage.Moderation.Entry> entries = new ArrayList<>();
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT category, value, reason FROM moderation ORDER BY category, value")) {
            while (rs.next()) entries.add(new dev.nexus.storage.Moderation.Entry(rs.getString(1), rs.getString(2), rs.getString(3)));
        }
        return entries;
    }

    /** One transaction on the caller's thread (an operator's call, rare); a banned event's tags go with it (ON DELETE CASCADE). */
    @Override
    public CompletableFuture<Void> moderate(dev.nexus.storage.Moderation.Change change, dev.nexus.storage.Moderation.Entry entry) {
        try (Connection c = writers.getConnection()) {
            try {
                if (change == dev.nexus.storage.Moderation.Change.SET) {
                    try (PreparedStatement ps = c.prepareStatement("DELETE FROM moderation WHERE category = ?")) {
                        ps.setString(1, entry.category());
                        ps.executeUpdate();
                    }
                }
                if (change == dev.nexus.storage.Moderation.Change.REMOVE) {
                    try (PreparedStatement ps = c.prepareStatement("DELETE FROM moderation WHERE category = ? AND value = ?")) {
                        ps.setString(1, entry.category());
                        ps.setString(2, entry.value());
                        ps.executeUpdate();
                    }
                } else {
                    try (PreparedStatement ps = c.prepareStatement("INSERT INTO moderation (category, value, reason) VALUES (?, ?, ?) "
                            + "ON CONFLICT (category, value) DO UPDATE SET reason = excluded.reason")) {
                        ps.setString(1, entry.category());
                        ps.setString(2, entry.value());
                        ps.setString(3, entry.reason() == null ? "" : entry.reason());
                        ps.executeUpdate();
                    }
                }
                boolean bansEvent = entry.category().equals(dev.nexus.storage.Moderation.BANNED_EVENT);
                if (bansEvent && change != dev.nexus.storage.Moderation.Change.REMOVE) {
                    try (PreparedStatement ps = c.prepareStatement("DELETE FROM event WHERE id = ?")) {
                        ps.setString(1, entry.value());
                        ps.executeUpdate();
                    }
                }
                c.commit();
                if (bansEvent) {
                    java.util.Set<String> banned = new java.util.HashSet<>(bannedEventIds);
                    if (change == dev.nexus.storage.Moderation.Change.REMOVE) banned.remove(entry.value());
                    else banned.add(entry.value());
                    bannedEventIds = java.util.Set.copyOf(banned);
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
        writeObserver = observer;
    }

    @Override
    public int queuedWrites() {
        return tasks.size();
    }

    /** The whole database's size (every node shares it); -1 while it cannot be reached. */
    @Override
    public long sizeOnDiskBytes() {
        try (Connection c = readers.getConnection(); java.sql.Statement st = c.createStatement();
             java.sql.ResultSet rs = st.executeQuery("SELECT pg_database_size(current_database())")) {
            return rs.next() ? rs.getLong(1) : -1;
        } catch (SQLException e) {
            return -1;
        }
    }

    // ---------------------------------------------------------------- the writer thread

    private void writeLoop() {
        List<WriteTask> batch = new ArrayList<>(batchMax);
        while (running || !tasks.isEmpty()) {
            try {
                WriteTask next = tasks.poll(200, TimeUnit.MILLISECONDS);
                while (next != null) {
                    batch.add(next);
                    next = batch.size() < batchMax ? tasks.pollNow() : null;
                }
                if (batch.isEmpty()) continue;
                runBatch(batch);
            } catch (Throwable t) {
                // The writer must outlive anything one batch can throw; its writes are answered, never dropped.
                log.error("writer: unexpected failure, answering {} writes with an error: {}", batch.size(), t.toString());
                for (WriteTask task : batch) task.done().complete(WriteResult.error("could not store the event"));
            } finally {
                batch.clear();
            }
        }
    }

    private void runBatch(List<WriteTask> batch) {
        try {
            long started = System.nanoTime();
            List<WriteResult> results = commit(batch);
            writeObserver.batchCommitted(batch.size(), System.nanoTime() - started);
            if (databaseDown) {
                databaseDown = false;
                log.info("PostgreSQL is reachable again; writes resume");
            }
            for (int i = 0; i < batch.size(); i++) batch.get(i).done().complete(results.get(i));
        } catch (SQLException e) {
            if (isConnectionFailure(e)) {
                if (!databaseDown) {
                    databaseDown = true;
                    log.error("PostgreSQL unreachable ({}); writes are answered with an error until it is back", e.getMessage());
                }
                for (WriteTask task : batch) task.done().complete(WriteResult.error("the database is unreachable, try again later"));
            } else if (batch.size() > 1) {
                // One event (or a lock timeout) must not fail its neighbours: retry each on its own.
                log.warn("write batch of {} failed ({}); retrying its events one by one", batch.size(), e.getMessage());
                for (WriteTask task : batch) runBatch(List.of(task));
            } else {
                log.error("storing event {} failed: {}", batch.get(0).event().id(), e.getMessage());
                batch.get(0).done().complete(WriteResult.error("could not store the event"));
            }
        }
    }

    /** One transaction for the whole batch; the results, in batch order, count only once it has committed. */
    private List<WriteResult> commit(List<WriteTask> batch) throws SQLException {
        try (Connection c = writers.getConnection()) {
            try {
                PostgresTransaction tx = new PostgresTransaction(c, retention);
                List<Event> durable = new ArrayList<>(batch.size());
                for (WriteTask task : batch) if (!task.ephemeral()) durable.add(task.event());
                tx.lockAuthors(durable);
                tx.prefetch(durable);
                List<WriteResult> results = new ArrayList<>(batch.size());
                List<Event> live = new ArrayList<>(batch.size());
                List<Boolean> stored = new ArrayList<>(batch.size());
                java.util.Set<String> banned = bannedEventIds;
                for (WriteTask task : batch) {
                    WriteResult r = task.ephemeral() ? WriteResult.STORED
                            : banned.contains(task.event().id()) ? WriteResult.blocked("this event was banned by the relay operator")
                            : tx.store(task.event());
                    results.add(r);
                    if (r.isNew()) {
                        live.add(task.event());
                        stored.add(!task.ephemeral());
                    }
                }
                tx.flush();
                if (!live.isEmpty()) tx.appendToFeed(live, stored);
                c.commit();
                return results;
            } catch (SQLException | RuntimeException e) {
                try {
                    c.rollback();
                } catch (SQLException ignored) {
                    // the connection is broken; HikariCP will discard it
                }
                throw e;
            }
        }
    }

    /** Connection-level failures (SQLSTATE class 08, a pool timeout, a closed socket) as opposed to a statement's error. */
    static boolean isConnectionFailure(SQLException e) {
        String state = e.getSQLState();
        if (state != null && (state.startsWith("08") || state.equals("57P01") || state.equals("57P02") || state.equals("57P03"))) return true;
        if (e instanceof java.sql.SQLTransientConnectionException) return true;
        Throwable cause = e.getCause();
        return cause instanceof java.io.IOException;
    }

    @Override
    public void close() {
        if (!running) return;
        running = false;
        try {
            writer.join(30000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        readers.close();
        writers.close();
        log.info("PostgreSQL store closed");
    }

    PostgresLocation location() {
        return location;
    }
}
