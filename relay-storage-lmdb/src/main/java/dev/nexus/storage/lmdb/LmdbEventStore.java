package dev.nexus.storage.lmdb;

import dev.nexus.core.Event;
import dev.nexus.core.Filter;
import dev.nexus.storage.EventStore;
import dev.nexus.storage.Moderation;
import dev.nexus.storage.RetentionPolicy;
import dev.nexus.storage.StoredEvent;
import dev.nexus.storage.WriteResult;
import dev.nexus.storage.WriteRules;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.function.Consumer;
import org.lmdbjava.Env;
import org.lmdbjava.EnvFlags;
import org.lmdbjava.Txn;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * LMDB (a memory-mapped copy-on-write B-tree, the engine strfry uses): every index is its own
 * B-tree over binary keys ({@link Layout}), a commit writes each changed page once, and there is no
 * write-ahead log to copy back. One writer thread ({@link LmdbWriter}) applies {@link WriteRules}
 * in a transaction per batch; readers ({@link LmdbQueries}) each take a snapshot that never waits
 * for it. The store is a directory holding {@code data.mdb} and {@code lock.mdb}.
 *
 * <p>Durability by {@code synchronous}: {@code full} flushes data and meta pages at every commit;
 * {@code normal} flushes the data pages at every commit and not the meta page, so a crash of the
 * machine may undo the last commits but leaves the file intact. (MDB_NOSYNC, which flushes nothing,
 * measured ≈ 20% less CPU per event, but a crash of the machine could then damage the store: not
 * offered; docs/PERFORMANCE.md.)
 */
public final class LmdbEventStore implements EventStore {
    private static final Logger log = LoggerFactory.getLogger(LmdbEventStore.class);
    /** Address space reserved for the file (it grows only as pages are used). */
    public static final long DEFAULT_MAP_BYTES = 256L << 30;
    private static final int MAX_READERS = 1024;

    private final RetentionPolicy retention;
    private final Path dir;
    private final Env<ByteBuffer> env;
    private final Tables tables;
    private final LmdbQueries queries;
    private final LmdbWriter writer;
    /** Queries hold the read lock while their transaction is open; close takes the write lock, so the environment never closes under one. */
    private final java.util.concurrent.locks.ReentrantReadWriteLock open = new java.util.concurrent.locks.ReentrantReadWriteLock();
    private volatile boolean running = true;
    /** Fault injection for tests: runs inside the writer's transaction before each event is stored. */
    volatile Consumer<Event> beforeStore;

    public LmdbEventStore(Path dir, String synchronous, int batchMax, RetentionPolicy retention) {
        this(dir, synchronous, batchMax, retention, DEFAULT_MAP_BYTES, 0);
    }

    /**
     * @param dir               the store's directory (created when missing)
     * @param mapBytes          the most the file may grow to (MDB_MAP_FULL past it: events are refused, nothing is lost)
     * @param queryBudgetMillis each query and count stops with a timeout after this long (0: no budget)
     */
    public LmdbEventStore(Path dir, String synchronous, int batchMax, RetentionPolicy retention, long mapBytes, long queryBudgetMillis) {
        this.retention = retention;
        this.dir = dir.toAbsolutePath();
        try {
            Files.createDirectories(this.dir);
            env = Env.create()
                    .setMapSize(mapBytes)
                    .setMaxDbs(Tables.COUNT)
                    .setMaxReaders(MAX_READERS)
                    .open(this.dir.toFile(), flags(synchronous));
            Set<String> banned = new HashSet<>();
            try (Txn<ByteBuffer> txn = env.txnWrite()) {
                tables = new Tables(env, txn);
                checkLayoutVersion(txn);
                txn.commit();
            }
            queries = new LmdbQueries(env, tables, queryBudgetMillis, open);
            for (Moderation.Entry e : queries.moderation()) {
                if (e.category().equals(Moderation.BANNED_EVENT)) banned.add(e.value());
            }
            writer = new LmdbWriter(env, new WriteRules(retention), batchMax, new LmdbTransaction(tables, banned), () -> beforeStore);
        } catch (IOException | RuntimeException e) {
            throw new IllegalStateException("cannot open LMDB store at " + dir + ": " + e.getMessage(), e);
        }
        writer.start();
        log.info("LMDB store open at {} (synchronous={}, map {} GiB)", this.dir, synchronous, mapBytes >> 30);
    }

    private static EnvFlags[] flags(String synchronous) {
        return switch (synchronous.toLowerCase(Locale.ROOT)) {
            case "full", "extra" -> new EnvFlags[] {EnvFlags.MDB_NOTLS, EnvFlags.MDB_NORDAHEAD};
            default -> new EnvFlags[] {EnvFlags.MDB_NOTLS, EnvFlags.MDB_NORDAHEAD, EnvFlags.MDB_NOMETASYNC};
        };
    }

    private void checkLayoutVersion(Txn<ByteBuffer> txn) {
        ByteBuffer key = ByteBuffer.allocateDirect(64).put(Tables.VERSION_KEY.getBytes(StandardCharsets.US_ASCII)).flip();
        ByteBuffer found = tables.meta.get(txn, key);
        if (found == null) {
            tables.meta.put(txn, key, ByteBuffer.allocateDirect(8).putLong(Tables.LAYOUT_VERSION).flip());
        } else if (found.getLong(found.position()) != Tables.LAYOUT_VERSION) {
            throw new IllegalStateException("the store was written with layout version " + found.getLong(found.position())
                    + ", this relay reads version " + Tables.LAYOUT_VERSION);
        }
    }

    @Override
    public CompletableFuture<WriteResult> write(Event event) {
        return writer.write(event, retention.kinds().isJobTraffic(event.kind()));
    }

    @Override
    public List<StoredEvent> query(Filter filter, int limit, long nowSeconds) {
        return queries.query(filter, limit, nowSeconds);
    }

    @Override
    public long count(List<Filter> filters, long nowSeconds) {
        return queries.count(filters, nowSeconds);
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
    public int deleteExpired(long nowSeconds, int batch) {
        return writer.deleteExpired(nowSeconds, batch);
    }

    @Override
    public void observeWrites(WriteObserver observer) {
        writer.observe(observer);
    }

    @Override
    public int queuedWrites() {
        return writer.queued();
    }

    /** The data file (LMDB writes it sparsely: this is the pages in use plus free pages kept for reuse). */
    @Override
    public long sizeOnDiskBytes() {
        try {
            Path data = dir.resolve("data.mdb");
            return Files.exists(data) ? Files.size(data) : 0;
        } catch (IOException e) {
            return -1;
        }
    }

    @Override
    public List<Moderation.Entry> moderation() {
        return queries.moderation();
    }

    @Override
    public CompletableFuture<Void> moderate(Moderation.Change change, Moderation.Entry entry) {
        return writer.moderate(change, entry);
    }

    /**
     * Stops the writer (letting its queue drain) and closes the environment once no read
     * transaction is open. Closing LMDB under a live transaction would be a use-after-free in native
     * code, so if the writer or a reader is still busy after the wait the environment is left to the
     * exiting process instead.
     */
    @Override
    public void close() {
        if (!running) return;
        running = false;
        boolean writerStopped = writer.close();
        boolean readersDone = false;
        try {
            readersDone = open.writeLock().tryLock(10, java.util.concurrent.TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (writerStopped && readersDone) {
            env.close();
            log.info("LMDB store closed");
        } else {
            log.warn("LMDB store left open for the exiting process: {}", writerStopped ? "a query is still running" : "the writer is still busy");
        }
    }
}
