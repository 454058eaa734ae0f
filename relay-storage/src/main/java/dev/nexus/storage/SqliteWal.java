package dev.nexus.storage;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The WAL policy (docs/ARCHITECTURE.md): passive checkpoints once a second on the
 * "nexus-checkpointer" thread, and a truncating checkpoint run by the writer past the bound.
 * Both use a checkpoint connection of their own.
 */
final class SqliteWal {
    private static final Logger log = LoggerFactory.getLogger(SqliteWal.class);
    /** A truncating checkpoint first waits this long for readers on old frames, doubling per failure up to the max. */
    private static final int TRUNCATE_WAIT_MIN_MILLIS = 100;
    private static final int TRUNCATE_WAIT_MAX_MILLIS = 3200;
    private static final long WAL_WARNING_INTERVAL_NANOS = TimeUnit.MINUTES.toNanos(1);

    private final Connection checkpointConnection;
    private final Path walFile;
    private final long walMaxBytes;
    private final ScheduledExecutorService checkpointer;
    /** Truncations in a row that readers kept from completing; each retry waits longer for them. */
    private int busyInARow;
    private final AtomicLong truncations = new AtomicLong();
    private final AtomicLong busyTruncations = new AtomicLong();
    private long lastWalWarningNanos;

    SqliteWal(Connection checkpointConnection, Path walFile, long walMaxBytes) {
        this.checkpointConnection = checkpointConnection;
        this.walFile = walFile;
        this.walMaxBytes = walMaxBytes;
        checkpointer = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "nexus-checkpointer");
            t.setDaemon(true);
            return t;
        });
    }

    void start() {
        checkpointer.scheduleWithFixedDelay(this::checkpoint, 1, 1, TimeUnit.SECONDS);
    }

    /** Called by the writer after each commit: only it grows the log, so this bounds it to one batch past the limit. */
    void boundAfterCommit() {
        if (walBytes() > walMaxBytes) truncateWal();
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

    /** Size of the write-ahead log file now, in bytes (0 when there is none). */
    long walBytes() {
        try {
            return Files.exists(walFile) ? Files.size(walFile) : 0;
        } catch (java.io.IOException e) {
            return 0;
        }
    }

    long truncations() {
        return truncations.get();
    }

    long busyTruncations() {
        return busyTruncations.get();
    }

    void stopCheckpointer() {
        checkpointer.shutdown();
        try {
            checkpointer.awaitTermination(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    void close() throws SQLException {
        checkpointConnection.close();
    }
}
