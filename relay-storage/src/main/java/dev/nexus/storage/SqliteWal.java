package dev.nexus.storage;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The WAL policy (docs/ARCHITECTURE.md): passive checkpoints that follow the writer closely on the
 * "nexus-checkpointer" thread, and a restarting checkpoint run by the writer past the bound, so the
 * next batch rewinds the log instead of growing it. Both use a checkpoint connection of their own.
 */
final class SqliteWal {
    private static final Logger log = LoggerFactory.getLogger(SqliteWal.class);
    /** A truncating checkpoint first waits this long for readers on old frames, doubling per failure up to the max. */
    private static final int TRUNCATE_WAIT_MIN_MILLIS = 100;
    private static final int TRUNCATE_WAIT_MAX_MILLIS = 3200;
    private static final long WAL_WARNING_INTERVAL_NANOS = TimeUnit.MINUTES.toNanos(1);
    /** How often the checkpointer reads the wal-index to see how far the log has grown (a 20-byte read). */
    private static final long PASSIVE_INTERVAL_MILLIS = 20;
    /**
     * ... while frames are coming. Once everything is copied back and the log has not changed for
     * {@link #DOZE_AFTER_NANOS}, it looks only this often, until the writer's next commit wakes it: each
     * wake-up of a thread costs ≈ 160 µs of CPU on the 2-vCPU machines here, and at 50 a second an idle
     * relay spent 0.8% of a core on looking at a log that did not change.
     */
    static final long DOZING_INTERVAL_MILLIS = 1000;
    private static final long DOZE_AFTER_NANOS = TimeUnit.SECONDS.toNanos(1);
    /** While frames keep coming slower than a quarter of the bound, they are still copied back this often. */
    private static final long PASSIVE_AT_LEAST_NANOS = TimeUnit.SECONDS.toNanos(1);
    /** A log the writer has left alone this long is truncated to zero bytes, so an idle relay holds no WAL on disk. */
    private static final long IDLE_TRUNCATE_NANOS = TimeUnit.SECONDS.toNanos(2);

    private final Connection checkpointConnection;
    private final Path walFile;
    private final Path walIndexFile;
    /** The -shm file, read for the wal-index header's frame count; null until it exists (or when unreadable). */
    private FileChannel walIndex;
    private boolean released;
    private final ByteBuffer walIndexHeader = ByteBuffer.allocate(WAL_INDEX_HEADER_BYTES).order(ByteOrder.nativeOrder());
    private final long walMaxBytes;
    private final ScheduledExecutorService checkpointer;
    /** Truncations in a row that readers kept from completing; each retry waits longer for them. */
    private int busyInARow;
    private final AtomicLong truncations = new AtomicLong();
    private final AtomicLong busyTruncations = new AtomicLong();
    private final AtomicLong catchUps = new AtomicLong();
    /** Fault injection for tests: runs on the checkpointer thread, holding the checkpoint connection, before each passive checkpoint. */
    volatile Runnable beforePassive;
    private long lastWalWarningNanos;
    /** Checkpointer-thread state: the log in use when it last looked (file size where the wal-index is unreadable), and when that last changed. */
    private long lastSeenBytesInUse = -1;
    /** The log in use when the last passive checkpoint ran (everything below it is copied back), and when. */
    private long lastCheckpointedBytesInUse;
    private long lastPassiveNanos = System.nanoTime();
    private long framesChangedNanos = System.nanoTime();
    /** True while the checkpointer looks only every {@link #DOZING_INTERVAL_MILLIS}; the writer's commit ends it. */
    private final AtomicBoolean dozing = new AtomicBoolean();
    /** The chain of scheduled looks that is current; a chain whose number is not this one ends (the writer woke a new one). */
    private final AtomicInteger chain = new AtomicInteger();
    private final AtomicLong looks = new AtomicLong();
    private final AtomicLong wakes = new AtomicLong();
    /**
     * The wal-index header (https://www.sqlite.org/walformat.html, section 2.1) in the -shm file, in
     * native byte order: szPage, a u16, at offset 14 (1 meaning 65536) and mxFrame, the number of valid
     * frames in the log, a u32 at offset 16. The log's file size says how big the log once was; this
     * says how much of it is in use, which is what the bound is about once the log is rewound in place.
     */
    private static final int WAL_INDEX_HEADER_BYTES = 20;
    private static final int WAL_HEADER_BYTES = 32;
    private static final int WAL_FRAME_HEADER_BYTES = 24;

    SqliteWal(Connection checkpointConnection, Path databaseFile, long walMaxBytes) {
        this.checkpointConnection = checkpointConnection;
        this.walFile = Path.of(databaseFile + "-wal");
        this.walIndexFile = Path.of(databaseFile + "-shm");
        this.walMaxBytes = walMaxBytes;
        checkpointer = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "nexus-checkpointer");
            t.setDaemon(true);
            return t;
        });
    }

    void start() {
        schedule(chain.get(), PASSIVE_INTERVAL_MILLIS);
    }

    private void schedule(int chainNumber, long delayMillis) {
        try {
            checkpointer.schedule(() -> look(chainNumber), delayMillis, TimeUnit.MILLISECONDS);
        } catch (RejectedExecutionException stopped) {
            // the store is closing
        }
    }

    /** One look of the chain {@code chainNumber}, then the next: soon while the log moves, seldom once it rests. */
    private void look(int chainNumber) {
        if (chainNumber != chain.get()) return; // the writer started a new chain meanwhile
        looks.incrementAndGet();
        try {
            checkpoint();
        } catch (RuntimeException e) {
            log.warn("WAL checkpointer: {}", e.toString());
        }
        boolean resting = lastSeenBytesInUse <= lastCheckpointedBytesInUse && System.nanoTime() - framesChangedNanos > DOZE_AFTER_NANOS;
        dozing.set(resting);
        // A commit between the look above and the flag would have found the flag down and woken no one.
        if (resting && logMeasure() != lastSeenBytesInUse && dozing.compareAndSet(true, false)) resting = false;
        schedule(chainNumber, resting ? DOZING_INTERVAL_MILLIS : PASSIVE_INTERVAL_MILLIS);
    }

    /**
     * Called by the writer after each commit: a dozing checkpointer starts looking every
     * {@link #PASSIVE_INTERVAL_MILLIS} again at once (a new chain; the dozing one ends when it
     * fires). A commit that races with the checkpointer falling asleep is seen by the next commit,
     * or by the dozing look a second later; either way the writer's own reset still bounds the log.
     */
    void committed() {
        if (dozing.get() && dozing.compareAndSet(true, false)) {
            wakes.incrementAndGet();
            schedule(chain.incrementAndGet(), 0);
        }
    }

    /** How many times a commit woke the dozing checkpointer (for tests). */
    long wakes() {
        return wakes.get();
    }

    /** How many times the checkpointer has looked at the log (for tests). */
    long looks() {
        return looks.get();
    }

    boolean dozing() {
        return dozing.get();
    }

    /**
     * Asked by the writer after each commit (only it grows the log): the checkpoint mode that resets
     * the log now that it is past the bound, else null. The log in use is measured from the wal-index
     * (RESTART: rewound in place); where that cannot be read, the log file's size is (TRUNCATE).
     */
    String resetDue() {
        long inUse = walBytesInUse();
        if (inUse >= 0) return inUse > walMaxBytes ? "RESTART" : null;
        return walBytes() > walMaxBytes ? "TRUNCATE" : null;
    }

    /** Bytes of the log holding valid frames (what the next writer appends after), or -1 when the wal-index cannot be read. */
    long walBytesInUse() {
        synchronized (walIndexHeader) {
            try {
                if (walIndex == null) {
                    if (released) return -1;
                    if (!Files.exists(walIndexFile)) return Files.exists(walFile) ? -1 : 0;
                    walIndex = FileChannel.open(walIndexFile, StandardOpenOption.READ);
                }
                walIndexHeader.clear();
                while (walIndexHeader.hasRemaining()) {
                    if (walIndex.read(walIndexHeader, walIndexHeader.position()) < 0) return -1;
                }
                int pageSize = Short.toUnsignedInt(walIndexHeader.getShort(14));
                if (pageSize == 1) pageSize = 65536;
                long frames = Integer.toUnsignedLong(walIndexHeader.getInt(16));
                return frames == 0 ? 0 : WAL_HEADER_BYTES + frames * (pageSize + WAL_FRAME_HEADER_BYTES);
            } catch (IOException e) {
                return -1;
            }
        }
    }

    /**
     * The first half of the WAL policy, on the checkpointer thread: a PASSIVE checkpoint copies
     * committed frames into the database without blocking anyone, each time the log in use has grown
     * by a quarter of the bound (so the writer's reset at the bound finds at most that quarter left to
     * copy), and otherwise once a second while frames keep coming. Not more often: every checkpoint
     * writes the pages hot at that moment again and syncs the file (checkpoints every 20 ms cost
     * 12-20% more relay CPU per stored event). It cannot bound the log by itself: SQLite only rewinds
     * the log when a writer starts after a checkpoint that caught up completely, which never happens
     * while writes keep coming (the soak in issue 15 grew it to 7 GB in 10 minutes). The second half is
     * {@link #reset}, run by the writer past the bound. A log left alone for a while is truncated
     * here, so an idle relay's WAL file is empty.
     */
    private void checkpoint() {
        long inUse = logMeasure();
        long now = System.nanoTime();
        if (inUse < lastCheckpointedBytesInUse) lastCheckpointedBytesInUse = 0; // the writer rewound the log
        if (inUse != lastSeenBytesInUse) {
            lastSeenBytesInUse = inUse;
            framesChangedNanos = now;
        }
        boolean uncopied = inUse > lastCheckpointedBytesInUse;
        if (uncopied && (inUse - lastCheckpointedBytesInUse >= walMaxBytes / 4 || now - lastPassiveNanos >= PASSIVE_AT_LEAST_NANOS)) {
            passive(inUse, now);
        } else if (!uncopied && now - framesChangedNanos > IDLE_TRUNCATE_NANOS && walBytes() > 0) {
            // Idle: nothing waits on this, so it gives way at once to a writer or a reader on old frames.
            synchronized (checkpointConnection) {
                try (Statement s = checkpointConnection.createStatement()) {
                    s.execute("PRAGMA busy_timeout=0");
                    s.execute("PRAGMA wal_checkpoint(TRUNCATE)");
                } catch (SQLException e) {
                    log.debug("idle WAL truncation skipped: {}", e.getMessage());
                }
            }
            // The log this left is the checkpointer's own doing, not new frames: it must not count as a
            // change (which would keep the checkpointer from dozing for another second).
            lastSeenBytesInUse = logMeasure();
            lastCheckpointedBytesInUse = lastSeenBytesInUse;
            if (walBytes() > 0) framesChangedNanos = now; // a reader held it: try again after another rest
        }
    }

    /** On the checkpointer thread: copies every frame committed before it started into the database, blocking no one. */
    private void passive(long inUse, long now) {
        synchronized (checkpointConnection) {
            Runnable hook = beforePassive;
            if (hook != null) hook.run();
            try (Statement s = checkpointConnection.createStatement()) {
                s.execute("PRAGMA wal_checkpoint(PASSIVE)");
            } catch (SQLException e) {
                log.warn("WAL checkpoint failed: {}", e.getMessage());
            }
        }
        lastCheckpointedBytesInUse = inUse;
        lastPassiveNanos = now;
    }

    /**
     * Asked by the writer once the log is past its bound, before {@link #reset}: a passive checkpoint
     * on the checkpointer thread, now, of everything committed so far. Writers are not blocked
     * meanwhile (the writer commits job traffic), so the reset that follows finds only what was
     * committed during it left to copy, and its pause, during which no one can write, is short.
     * Completes when the checkpoint is done (at once if the checkpointer has stopped).
     */
    CompletableFuture<Void> catchUp() {
        catchUps.incrementAndGet();
        CompletableFuture<Void> done = new CompletableFuture<>();
        try {
            checkpointer.execute(() -> {
                try {
                    passive(logMeasure(), System.nanoTime());
                } finally {
                    done.complete(null);
                }
            });
        } catch (RejectedExecutionException stopped) {
            done.complete(null);
        }
        return done;
    }

    /**
     * On the writer thread, between batches (so no write can start meanwhile): folds the whole WAL
     * into the database so the next batch rewinds it (RESTART: the file is reused from its start and
     * kept at journal_size_limit, which costs far less than truncating and regrowing it; TRUNCATE only
     * where the wal-index cannot be read). It waits for readers still reading old frames (new readers
     * read the database file and do not hold it up), 100 ms at first; when they outlast that, it gives
     * up, lets the next batch through and waits twice as long next time, so slow readers cost writes a
     * little latency and the WAL stays bounded. The writer asks for {@link #catchUp} first, so almost
     * every frame is already copied and the usual pause is short.
     */
    void reset(String mode) {
        long before = Math.max(walBytesInUse(), walBytes());
        long start = System.nanoTime();
        int busy;
        int waitMillis = Math.min(TRUNCATE_WAIT_MAX_MILLIS, TRUNCATE_WAIT_MIN_MILLIS << Math.min(busyInARow, 10));
        synchronized (checkpointConnection) {
            try (Statement s = checkpointConnection.createStatement()) {
                s.execute("PRAGMA busy_timeout=" + waitMillis);
                try (ResultSet rs = s.executeQuery("PRAGMA wal_checkpoint(" + mode + ")")) {
                    busy = rs.next() ? rs.getInt(1) : 1;
                }
            } catch (SQLException e) {
                log.warn("WAL checkpoint ({}) failed: {}", mode, e.getMessage());
                busy = 1;
            }
        }
        long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
        if (busy == 0) {
            busyInARow = 0;
            truncations.incrementAndGet();
            log.debug("WAL reset ({}) from {} KiB in {} ms", mode, before / 1024, millis);
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

    /** What the checkpointer measures the log by: the bytes in use, or the file's size where the wal-index cannot be read. */
    private long logMeasure() {
        long inUse = walBytesInUse();
        return inUse < 0 ? walBytes() : inUse;
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

    long catchUps() {
        return catchUps.get();
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

    /**
     * Only after every SQLite connection to this database in the process is closed: closing any file
     * descriptor of the -shm file drops all of the process's POSIX locks on it, SQLite's included
     * (https://www.sqlite.org/howtocorrupt.html, 2.2).
     */
    void releaseWalIndex() {
        synchronized (walIndexHeader) {
            try {
                if (walIndex != null) walIndex.close();
            } catch (IOException ignored) {
                // a read-only handle: nothing to flush or lose
            }
            walIndex = null;
            released = true;
        }
    }
}
