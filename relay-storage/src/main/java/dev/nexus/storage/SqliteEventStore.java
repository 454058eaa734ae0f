package dev.nexus.storage;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import dev.nexus.core.Event;
import dev.nexus.core.Filter;
import dev.nexus.core.Kinds;
import dev.nexus.core.TwoLaneQueue;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.sqlite.SQLiteConfig;
import org.sqlite.SQLiteDataSource;

/**
 * SQLite in WAL mode. All writes go through one writer thread ("nexus-writer") that drains its
 * queues into one transaction per batch (group commit: one fsync amortised over the batch) and
 * completes each write's future only after that commit. Job traffic (as the retention policy's
 * {@code MarketplaceKinds} define it) has a lane of its own that the writer drains first. Reads use a small HikariCP pool of read-only connections,
 * which WAL lets run beside the writer without waiting for it.
 */
public final class SqliteEventStore implements EventStore {
    private static final Logger log = LoggerFactory.getLogger(SqliteEventStore.class);
    public static final long DEFAULT_WAL_MAX_BYTES = 64L * 1024 * 1024;
    /** A truncating checkpoint first waits this long for readers on old frames, doubling per failure up to the max. */
    private static final int TRUNCATE_WAIT_MIN_MILLIS = 100;
    private static final int TRUNCATE_WAIT_MAX_MILLIS = 3200;
    private static final long WAL_WARNING_INTERVAL_NANOS = TimeUnit.MINUTES.toNanos(1);

    private sealed interface WriteTask permits StoreEvent, Sweep, Moderate {}
    private record Moderate(Moderation.Change change, Moderation.Entry entry, CompletableFuture<Void> done) implements WriteTask {}
    private record StoreEvent(Event event, CompletableFuture<WriteResult> done) implements WriteTask {}
    private record Sweep(long now, int batch, CompletableFuture<Integer> done) implements WriteTask {}

    private final RetentionPolicy retention;
    private final int batchMax;
    private final Connection writeConnection;
    private final Connection checkpointConnection;
    private final java.util.concurrent.ScheduledExecutorService checkpointer;
    private final HikariDataSource readers;
    private final long queryBudgetMillis;
    /** Fault injection for tests: runs inside the writer's transaction before each event is stored. */
    volatile java.util.function.Consumer<Event> beforeStore;
    /** Set while batches fail (e.g. disk full), so the log gets one line when writes stop and one when they resume. */
    private boolean writesFailing;
    /** How long a batch waits for another connection's write lock before its events are refused (as busy_timeout). */
    private static final long BUSY_WAIT_NANOS = TimeUnit.SECONDS.toNanos(10);
    /** SQLite's default SQLITE_MAX_VARIABLE_NUMBER: bound values one statement can take. */
    public static final int MAX_BOUND_VALUES = 32766;
    /** VM steps between two looks at the clock while a query runs. */
    private static final int BUDGET_CHECK_STEPS = 1000;
    private final TwoLaneQueue<WriteTask> tasks = new TwoLaneQueue<>();
    private final Thread writer;
    private volatile boolean running = true;
    private final WriterStatements st;
    private final Path walFile;
    private final long walMaxBytes;
    /** Truncations in a row that readers kept from completing; each retry waits longer for them. */
    private int busyInARow;
    private final AtomicLong truncations = new AtomicLong();
    private final AtomicLong busyTruncations = new AtomicLong();
    private long lastWalWarningNanos;
    private volatile WriteObserver writeObserver = (writes, nanos) -> { };
    private final Path dbFile;
    /** Operator-banned event ids (NIP-86): read and changed only by the writer thread after start. */
    private final java.util.Set<String> bannedEventIds = new java.util.HashSet<>();

    /** A store with the default WAL bound. */
    public SqliteEventStore(Path file, String synchronous, int readerPoolSize, int batchMax, RetentionPolicy retention) {
        this(file, synchronous, readerPoolSize, batchMax, retention, DEFAULT_WAL_MAX_BYTES, 0);
    }

    public SqliteEventStore(Path file, String synchronous, int readerPoolSize, int batchMax, RetentionPolicy retention, long walMaxBytes) {
        this(file, synchronous, readerPoolSize, batchMax, retention, walMaxBytes, 0);
    }

    /**
     * @param walMaxBytes when the write-ahead log grows past this, the writer pauses after its batch
     *                    to fold the log into the database and truncate it (see {@link #truncateWal()})
     * @param queryBudgetMillis each query and count is interrupted after this long (0: no budget)
     */
    public SqliteEventStore(Path file, String synchronous, int readerPoolSize, int batchMax, RetentionPolicy retention, long walMaxBytes,
                            long queryBudgetMillis) {
        this.queryBudgetMillis = queryBudgetMillis;
        this.retention = retention;
        this.batchMax = batchMax;
        this.walMaxBytes = walMaxBytes;
        this.walFile = Path.of(file.toAbsolutePath() + "-wal");
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
            writeConnection = DriverManager.getConnection(url, props);
            try (Statement s = writeConnection.createStatement()) {
                s.execute("PRAGMA journal_mode=WAL");
                s.execute("PRAGMA synchronous=" + synchronous.toUpperCase());
                s.execute("PRAGMA cache_size=-32000");
                // Checkpoints (the only fsyncs in WAL mode with synchronous=NORMAL) run on the
                // checkpointer's own connection, so they never stall the writer and the fan-out behind it.
                s.execute("PRAGMA wal_autocheckpoint=0");
            }
            writeConnection.setAutoCommit(false);
            SqliteSchema.migrate(writeConnection);
            checkpointConnection = DriverManager.getConnection(url, props);
            st = new WriterStatements(writeConnection);
            for (Moderation.Entry e : readModeration(writeConnection)) {
                if (e.category().equals(Moderation.BANNED_EVENT)) bannedEventIds.add(e.value());
            }
            writeConnection.commit();

            SQLiteConfig readConfig = new SQLiteConfig();
            readConfig.setReadOnly(true);
            readConfig.setBusyTimeout(10000);
            readConfig.setCacheSize(-16000);
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
        checkpointer = java.util.concurrent.Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "nexus-checkpointer");
            t.setDaemon(true);
            return t;
        });
        checkpointer.scheduleWithFixedDelay(this::checkpoint, 1, 1, TimeUnit.SECONDS);
        writer = new Thread(this::writeLoop, "nexus-writer");
        writer.setDaemon(false);
        writer.start();
        log.info("SQLite store open at {} (WAL bounded at {} MiB, synchronous={}, {} readers)", file.toAbsolutePath(),
                walMaxBytes / (1024 * 1024), synchronous, readerPoolSize);
    }

    @Override
    public CompletableFuture<WriteResult> write(Event event) {
        CompletableFuture<WriteResult> done = new CompletableFuture<>();
        if (!running) {
            done.complete(WriteResult.error("relay is shutting down"));
            return done;
        }
        tasks.add(new StoreEvent(event, done), retention.kinds().isJobTraffic(event.kind()));
        return done;
    }

    @Override
    public int deleteExpired(long nowSeconds, int batch) {
        if (!running) return 0;
        CompletableFuture<Integer> done = new CompletableFuture<>();
        tasks.add(new Sweep(nowSeconds, batch, done), false);
        return done.join();
    }

    @Override
    public List<StoredEvent> query(Filter filter, int limit, long nowSeconds) {
        if (filter.matchesNothing() || limit <= 0) return List.of();
        FilterQuery q = FilterQuery.of(filter, limit, nowSeconds);
        checkBoundValues(q.params().size());
        try (Connection c = readers.getConnection(); PreparedStatement ps = c.prepareStatement(q.sql())) {
            bind(ps, q.params());
            List<StoredEvent> out = new ArrayList<>(Math.min(limit, 64));
            startBudget(c);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) out.add(new StoredEvent(rs.getString(1), rs.getLong(2), rs.getBytes(3)));
            } finally {
                endBudget(c);
            }
            return out;
        } catch (SQLException e) {
            throw failure("query", e);
        }
    }

    @Override
    public long count(List<Filter> filters, long nowSeconds) {
        List<Filter> live = filters.stream().filter(f -> !f.matchesNothing()).toList();
        if (live.size() == 1) return countOne(live.get(0), nowSeconds);
        List<String> selects = new ArrayList<>();
        List<Object> params = new ArrayList<>();
        for (Filter f : filters) {
            if (f.matchesNothing()) continue;
            FilterQuery q = FilterQuery.idsOf(f, nowSeconds);
            selects.add(q.sql());
            params.addAll(q.params());
        }
        if (selects.isEmpty()) return 0;
        // UNION (not UNION ALL): an event matched by two filters counts once.
        String sql = "SELECT COUNT(*) FROM (" + String.join(" UNION ", selects) + ")";
        checkBoundValues(params.size());
        try (Connection c = readers.getConnection(); PreparedStatement ps = c.prepareStatement(sql)) {
            bind(ps, params);
            startBudget(c);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? rs.getLong(1) : 0;
            } finally {
                endBudget(c);
            }
        } catch (SQLException e) {
            throw failure("count", e);
        }
    }

    /**
     * One filter needs no de-duplication, so it is counted as (all matches) − (expired matches not
     * yet swept): the first is an index-only count for kinds/authors/time filters, the second walks
     * only the expiry index up to now. Counting through "unexpired" directly would read every row
     * for its expires_at (a cold COUNT of 250k jobs took seconds; now milliseconds).
     */
    private long countOne(Filter f, long nowSeconds) {
        FilterQuery all = FilterQuery.countIgnoringExpiry(f);
        FilterQuery expired = FilterQuery.countExpired(f, nowSeconds);
        checkBoundValues(Math.max(all.params().size(), expired.params().size()));
        try (Connection c = readers.getConnection()) {
            startBudget(c);
            try {
                long total = single(c, all);
                return total == 0 ? 0 : total - single(c, expired);
            } finally {
                endBudget(c);
            }
        } catch (SQLException e) {
            throw failure("count", e);
        }
    }

    private static long single(Connection c, FilterQuery q) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(q.sql())) {
            bind(ps, q.params());
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? rs.getLong(1) : 0;
            }
        }
    }

    /** EXPLAIN QUERY PLAN of the statements a one-filter COUNT runs; for tests and operators. */
    public List<String> explainCount(Filter filter, long nowSeconds) {
        List<String> out = new ArrayList<>();
        try (Connection c = readers.getConnection()) {
            for (FilterQuery q : List.of(FilterQuery.countIgnoringExpiry(filter), FilterQuery.countExpired(filter, nowSeconds))) {
                try (PreparedStatement ps = c.prepareStatement("EXPLAIN QUERY PLAN " + q.sql())) {
                    bind(ps, q.params());
                    try (ResultSet rs = ps.executeQuery()) {
                        while (rs.next()) out.add(rs.getString("detail"));
                    }
                }
            }
            return out;
        } catch (SQLException e) {
            throw new StoreException("explain failed: " + e.getMessage(), e);
        }
    }

    @Override
    public int scanIdsAscending(Filter filter, long nowSeconds, int maxItems, IdConsumer consumer) {
        if (filter.matchesNothing() || maxItems <= 0 || (filter.limit() != null && filter.limit() == 0)) return 0;
        FilterQuery q = FilterQuery.idsAscending(filter, maxItems, nowSeconds);
        try (Connection c = readers.getConnection(); PreparedStatement ps = c.prepareStatement(q.sql())) {
            bind(ps, q.params());
            ps.setFetchSize(1024);
            int n = 0;
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    consumer.accept(rs.getLong(2), rs.getString(1));
                    n++;
                }
            }
            return n;
        } catch (SQLException e) {
            throw new StoreException("id scan failed: " + e.getMessage(), e);
        }
    }

    private static void checkBoundValues(int n) {
        if (n > MAX_BOUND_VALUES) {
            throw new StoreException(StoreException.Reason.TOO_MANY_VALUES,
                    "the filters bind " + n + " values; the store takes at most " + MAX_BOUND_VALUES + " in one query", null);
        }
    }

    /** Interrupts the statement on this connection once the budget is spent (checked every few VM steps). */
    private void startBudget(Connection c) throws SQLException {
        if (queryBudgetMillis <= 0) return;
        long deadline = System.nanoTime() + queryBudgetMillis * 1_000_000L;
        org.sqlite.ProgressHandler.setHandler(c.unwrap(org.sqlite.SQLiteConnection.class), BUDGET_CHECK_STEPS, new org.sqlite.ProgressHandler() {
            @Override
            protected int progress() {
                return System.nanoTime() > deadline ? 1 : 0;
            }
        });
    }

    private void endBudget(Connection c) throws SQLException {
        if (queryBudgetMillis > 0) org.sqlite.ProgressHandler.clearHandler(c.unwrap(org.sqlite.SQLiteConnection.class));
    }

    private StoreException failure(String what, SQLException e) {
        String m = String.valueOf(e.getMessage());
        if (queryBudgetMillis > 0 && (m.contains("interrupt") || m.contains("SQLITE_INTERRUPT"))) {
            return new StoreException(StoreException.Reason.TIMEOUT, what + " ran past its budget of " + queryBudgetMillis + " ms", e);
        }
        return new StoreException(what + " failed: " + m, e);
    }

    /** EXPLAIN QUERY PLAN for the statement {@link #query} would run; for tests and operators. */
    public List<String> explain(Filter filter, int limit, long nowSeconds) {
        FilterQuery q = FilterQuery.of(filter, limit, nowSeconds);
        try (Connection c = readers.getConnection(); PreparedStatement ps = c.prepareStatement("EXPLAIN QUERY PLAN " + q.sql())) {
            bind(ps, q.params());
            List<String> out = new ArrayList<>();
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) out.add(rs.getString("detail"));
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

    private static void bind(PreparedStatement ps, List<Object> params) throws SQLException {
        for (int i = 0; i < params.size(); i++) {
            Object p = params.get(i);
            if (p instanceof String s) ps.setString(i + 1, s);
            else if (p instanceof Integer n) ps.setInt(i + 1, n);
            else ps.setLong(i + 1, (Long) p);
        }
    }

    // ---------------------------------------------------------------- the writer thread

    private void writeLoop() {
        List<WriteTask> batch = new ArrayList<>(batchMax);
        while (running || !tasks.isEmpty()) {
            WriteTask next = tasks.poll(200, TimeUnit.MILLISECONDS);
            while (next != null) {
                batch.add(next);
                next = batch.size() < batchMax ? tasks.pollNow() : null;
            }
            if (batch.isEmpty()) continue;
            try {
                runBatch(batch);
                // Only this thread grows the WAL, so checking after each commit bounds it to one batch past the limit.
                if (walBytes() > walMaxBytes) truncateWal();
            } catch (Throwable t) {
                // Never reached while runBatch keeps its promise; the writer must not die silently either way.
                log.error("writer: unexpected failure outside a batch: {}", t.toString());
            }
            batch.clear();
        }
    }

    private void runBatch(List<WriteTask> batch) {
        long started = System.nanoTime();
        // Futures complete only after the commit, so each task leaves its completion in this list meanwhile.
        List<Runnable> afterCommit;
        try {
            afterCommit = commitWaitingForTheLock(batch, started + BUSY_WAIT_NANOS);
        } catch (Throwable e) {
            // Any exception or error (SQLite full, a bug, an Error) fails this batch only; the writer goes on.
            if (!writesFailing) {
                writesFailing = true;
                log.error("writes are failing, events are refused with OK false until storage recovers: {}", e.toString());
            }
            rollbackQuietly();
            String why = isDiskFull(e) ? "the relay's storage is full; try again later" : "could not store the event";
            for (WriteTask task : batch) {
                if (task instanceof StoreEvent se) se.done().complete(WriteResult.error(why));
                else if (task instanceof Sweep sw) sw.done().complete(0);
                else if (task instanceof Moderate m) m.done().completeExceptionally(new StoreException("could not record the moderation change: " + e, e));
            }
            return;
        }
        if (writesFailing) {
            writesFailing = false;
            log.info("writes succeed again");
        }
        writeObserver.batchCommitted(batch.size(), System.nanoTime() - started);
        afterCommit.forEach(Runnable::run);
    }

    /**
     * Runs and commits the batch. Another connection may hold the write lock (an admin command, a
     * backup): SQLite does not wait by itself when a transaction that has already read wants to write,
     * so the batch is rolled back and tried again until the lock is free or the busy budget is spent.
     */
    private List<Runnable> commitWaitingForTheLock(List<WriteTask> batch, long busyDeadline) throws Throwable {
        long pauseMillis = 1;
        while (true) {
            try {
                return commitOnce(batch);
            } catch (Throwable e) {
                if (!isBusy(e) || System.nanoTime() >= busyDeadline) throw e;
                rollbackQuietly();
                Thread.sleep(pauseMillis);
                pauseMillis = Math.min(pauseMillis * 2, 50);
            }
        }
    }

    private List<Runnable> commitOnce(List<WriteTask> batch) throws SQLException {
        List<Runnable> afterCommit = new ArrayList<>(batch.size());
        for (WriteTask task : batch) {
            if (task instanceof StoreEvent se) {
                WriteResult result = storeOne(se.event());
                afterCommit.add(() -> se.done().complete(result));
            } else if (task instanceof Sweep sw) {
                int removed = st.deleteExpired(sw.now(), sw.batch());
                afterCommit.add(() -> sw.done().complete(removed));
            } else if (task instanceof Moderate m) {
                applyModeration(m.change(), m.entry());
                afterCommit.add(() -> m.done().complete(null));
            }
        }
        writeConnection.commit();
        return afterCommit;
    }

    private void rollbackQuietly() {
        try {
            writeConnection.rollback();
        } catch (Throwable alreadyRolledBack) {
            // SQLite rolls back by itself on some errors (SQLITE_FULL): the driver's rollback then fails and
            // does not open the next transaction, so open it here or every later commit fails.
            try (java.sql.Statement begin = writeConnection.createStatement()) {
                begin.execute("BEGIN");
            } catch (Throwable stillBroken) {
                // the next batch will report it
            }
        }
    }

    /** SQLITE_BUSY and its extended codes (BUSY_SNAPSHOT, BUSY_RECOVERY...): someone else holds the lock. */
    private static boolean isBusy(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof org.sqlite.SQLiteException se && (se.getResultCode().code & 0xff) == 5) return true;
        }
        return false;
    }

    private static boolean isDiskFull(Throwable e) {
        String m = String.valueOf(e.getMessage());
        return m.contains("SQLITE_FULL") || m.contains("database or disk is full");
    }

    private WriteResult storeOne(Event e) throws SQLException {
        java.util.function.Consumer<Event> hook = beforeStore;
        if (hook != null) hook.accept(e);
        if (bannedEventIds.contains(e.id())) return WriteResult.blocked("this event was banned by the relay operator");
        if (st.exists(e.id())) return WriteResult.ALREADY_STORED;
        if (st.isTombstoned(e.id(), e.pubkey())) return WriteResult.blocked("this event was deleted by its author");
        int kind = e.kind();
        String dTag = null;
        if (Kinds.isReplaceable(kind) || Kinds.isAddressable(kind)) {
            dTag = Kinds.isAddressable(kind) ? e.dTag() : "";
            if (Kinds.isAddressable(kind)) {
                Long until = st.addressDeletedUntil(kind, e.pubkey(), dTag);
                if (until != null && e.createdAt() <= until) return WriteResult.blocked("this address was deleted by its author");
            }
            for (WriterStatements.Version old : st.versions(e.pubkey(), kind, dTag)) {
                // NIP-01: the newest wins; on equal created_at the lowest id wins.
                boolean newer = e.createdAt() > old.createdAt() || (e.createdAt() == old.createdAt() && e.id().compareTo(old.id()) < 0);
                if (!newer) return WriteResult.olderThanStored("a newer version of this replaceable event is already stored");
            }
            st.deleteVersions(e.pubkey(), kind, dTag);
        }
        if (kind == Kinds.DELETION) applyDeletion(e);
        long seq = st.insert(e, dTag, retention.expiresAt(e));
        st.insertTags(seq, e);
        return WriteResult.STORED;
    }

    @Override
    public List<Moderation.Entry> moderation() {
        try (Connection c = readers.getConnection()) {
            return readModeration(c);
        } catch (SQLException e) {
            throw failure("reading moderation state", e);
        }
    }

    private static List<Moderation.Entry> readModeration(Connection c) throws SQLException {
        List<Moderation.Entry> entries = new ArrayList<>();
        try (Statement s = c.createStatement(); java.sql.ResultSet rs = s.executeQuery("SELECT category, value, reason FROM moderation ORDER BY category, value")) {
            while (rs.next()) entries.add(new Moderation.Entry(rs.getString(1), rs.getString(2), rs.getString(3)));
        }
        return entries;
    }

    @Override
    public CompletableFuture<Void> moderate(Moderation.Change change, Moderation.Entry entry) {
        CompletableFuture<Void> done = new CompletableFuture<>();
        if (!running) {
            done.completeExceptionally(new StoreException("relay is shutting down", null));
            return done;
        }
        tasks.add(new Moderate(change, entry, done), false);
        return done;
    }

    /** On the writer thread, inside its transaction. */
    private void applyModeration(Moderation.Change change, Moderation.Entry entry) throws SQLException {
        if (change == Moderation.Change.SET) {
            try (PreparedStatement ps = writeConnection.prepareStatement("DELETE FROM moderation WHERE category = ?")) {
                ps.setString(1, entry.category());
                ps.executeUpdate();
            }
        }
        if (change == Moderation.Change.REMOVE) {
            try (PreparedStatement ps = writeConnection.prepareStatement("DELETE FROM moderation WHERE category = ? AND value = ?")) {
                ps.setString(1, entry.category());
                ps.setString(2, entry.value());
                ps.executeUpdate();
            }
        } else {
            try (PreparedStatement ps = writeConnection.prepareStatement("INSERT OR REPLACE INTO moderation (category, value, reason) VALUES (?, ?, ?)")) {
                ps.setString(1, entry.category());
                ps.setString(2, entry.value());
                ps.setString(3, entry.reason() == null ? "" : entry.reason());
                ps.executeUpdate();
            }
        }
        if (!entry.category().equals(Moderation.BANNED_EVENT)) return;
        if (change == Moderation.Change.REMOVE) {
            bannedEventIds.remove(entry.value());
        } else {
            bannedEventIds.add(entry.value());
            try (PreparedStatement ps = writeConnection.prepareStatement("SELECT seq FROM event WHERE id = ?")) {
                ps.setString(1, entry.value());
                try (java.sql.ResultSet rs = ps.executeQuery()) {
                    if (rs.next()) st.delete(rs.getLong(1));
                }
            }
        }
    }

    /** NIP-09: removes only the deleter's own events, and remembers them so they cannot come back. */
    private void applyDeletion(Event deletion) throws SQLException {
        for (List<String> tag : deletion.tags()) {
            if (tag.size() < 2) continue;
            String name = tag.get(0), value = tag.get(1);
            if (name.equals("e")) {
                st.deleteOwnEvent(value, deletion.pubkey());
                st.tombstone(value, deletion.pubkey());
            } else if (name.equals("a")) {
                String[] parts = value.split(":", 3);
                if (parts.length < 3 || !parts[1].equals(deletion.pubkey())) continue;
                int kind;
                try {
                    kind = Integer.parseInt(parts[0]);
                } catch (NumberFormatException ex) {
                    continue;
                }
                if (!Kinds.isAddressable(kind) && !Kinds.isReplaceable(kind)) continue;
                String dTag = Kinds.isAddressable(kind) ? parts[2] : "";
                st.deleteAddress(kind, deletion.pubkey(), dTag, deletion.createdAt());
            }
        }
    }

    /**
     * The first half of the WAL policy, on the checkpointer thread once a second: a PASSIVE checkpoint
     * copies committed frames into the database without blocking anyone. It cannot bound the log by
     * itself: SQLite only rewinds the log when a writer starts after a checkpoint that caught up
     * completely, which never happens while writes keep coming (the soak in issue 15 grew it to 7 GB
     * in 10 minutes). The second half is {@link #truncateWal()}, run by the writer past the bound.
     */
    private void checkpoint() {
        if (walBytes() == 0) return;
        synchronized (checkpointConnection) {
            try (Statement s = checkpointConnection.createStatement()) {
                s.execute("PRAGMA wal_checkpoint(PASSIVE)");
            } catch (SQLException e) {
                log.warn("WAL checkpoint failed: {}", e.getMessage());
            }
        }
    }

    /**
     * On the writer thread, between batches (so no write can start meanwhile): folds the whole WAL
     * into the database and truncates it to zero bytes. It waits for readers still reading old
     * frames (new readers read the database file and do not hold it up), 100 ms at first; when they
     * outlast that, it gives up, lets the next batch through and waits twice as long next time, so
     * slow readers cost writes a little latency and the WAL stays bounded. Most frames were already
     * copied by the passive checkpoints, so the usual pause is short.
     */
    private void truncateWal() {
        long before = walBytes();
        long start = System.nanoTime();
        int busy;
        int waitMillis = Math.min(TRUNCATE_WAIT_MAX_MILLIS, TRUNCATE_WAIT_MIN_MILLIS << Math.min(busyInARow, 10));
        synchronized (checkpointConnection) {
            try (Statement s = checkpointConnection.createStatement()) {
                s.execute("PRAGMA busy_timeout=" + waitMillis);
                try (ResultSet rs = s.executeQuery("PRAGMA wal_checkpoint(TRUNCATE)")) {
                    busy = rs.next() ? rs.getInt(1) : 1;
                }
            } catch (SQLException e) {
                log.warn("WAL checkpoint (truncate) failed: {}", e.getMessage());
                busy = 1;
            }
        }
        long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
        if (busy == 0) {
            busyInARow = 0;
            truncations.incrementAndGet();
            log.debug("WAL truncated from {} KiB in {} ms", before / 1024, millis);
            return;
        }
        busyTruncations.incrementAndGet();
        busyInARow++;
        long now = System.nanoTime();
        if (now - lastWalWarningNanos > WAL_WARNING_INTERVAL_NANOS) {
            lastWalWarningNanos = now;
            log.warn("WAL is {} MiB, over its bound of {} MiB: readers kept the checkpoint from completing ({} times so far); retrying",
                    before / (1024 * 1024), walMaxBytes / (1024 * 1024), busyTruncations.get());
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
        try {
            return Files.exists(walFile) ? Files.size(walFile) : 0;
        } catch (java.io.IOException e) {
            return 0;
        }
    }

    /** How many truncating checkpoints completed, and how many readers kept from completing. */
    public long walTruncations() {
        return truncations.get();
    }

    public long walTruncationsBusy() {
        return busyTruncations.get();
    }

    @Override
    public void close() {
        if (!running) return;
        running = false;
        checkpointer.shutdown();
        try {
            checkpointer.awaitTermination(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        try {
            writer.join(30000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        readers.close();
        try {
            st.close();
            checkpointConnection.close();
            // The last connection to close checkpoints and removes the WAL.
            writeConnection.close();
        } catch (SQLException e) {
            log.warn("closing the SQLite writer: {}", e.getMessage());
        }
        log.info("SQLite store closed");
    }
}
