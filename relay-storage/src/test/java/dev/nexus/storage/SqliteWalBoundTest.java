package dev.nexus.storage;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.nexus.core.ClientMessage;
import dev.nexus.core.ClientMessageParser;
import dev.nexus.core.Event;
import dev.nexus.core.Filter;
import dev.nexus.core.ProtocolLimits;
import dev.nexus.core.testing.NostrKey;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Issue 15: the write-ahead log stays within [storage] wal_max_bytes under sustained writes and reads. */
class SqliteWalBoundTest {
    private static final long WAL_MAX = 2L * 1024 * 1024;
    private static final int BATCH = 64;
    @TempDir Path dir;

    @Test
    void theWalNeverExceedsItsBoundByMoreThanOneBatchWhileWritesAndQueriesKeepComing() throws Exception {
        Path db = dir.resolve("nexus.db");
        SqliteEventStore store = new SqliteEventStore(db, "normal", 2, BATCH, RetentionPolicy.DEFAULT, WAL_MAX);
        AtomicBoolean stop = new AtomicBoolean();
        AtomicLong maxWal = new AtomicLong();
        AtomicLong maxInUse = new AtomicLong();
        AtomicLong queries = new AtomicLong();
        AtomicReference<Throwable> failure = new AtomicReference<>();
        Filter recent = ((ClientMessage.Subscribe) new ClientMessageParser(ProtocolLimits.DEFAULT)
                .parse("[\"REQ\",\"s\",{\"kinds\":[1]}]")).filters().get(0);
        Thread sampler = new Thread(() -> {
            while (!stop.get()) {
                maxWal.accumulateAndGet(store.walBytes(), Math::max);
                maxInUse.accumulateAndGet(store.walBytesInUse(), Math::max);
                sleep(5);
            }
        });
        List<Thread> readers = new ArrayList<>();
        for (int i = 0; i < 2; i++) {
            readers.add(new Thread(() -> {
                try {
                    while (!stop.get()) {
                        store.query(recent, 200, System.currentTimeMillis() / 1000);
                        store.count(List.of(recent), System.currentTimeMillis() / 1000);
                        queries.incrementAndGet();
                    }
                } catch (Throwable t) {
                    failure.compareAndSet(null, t);
                }
            }));
        }
        sampler.start();
        readers.forEach(Thread::start);
        NostrKey key = NostrKey.generate();
        String body = "x".repeat(6000);
        long written = 0;
        // Write a volume (not a duration), so a slow machine still writes several bounds' worth.
        long target = 6 * WAL_MAX / body.length();
        long deadline = System.currentTimeMillis() + 120_000;
        try {
            while (written < target && System.currentTimeMillis() < deadline) {
                List<CompletableFuture<WriteResult>> pending = new ArrayList<>();
                for (int i = 0; i < 200; i++) {
                    Event e = key.sign(1, List.of(List.of("t", "soak")), body + written + "-" + i);
                    pending.add(store.write(e));
                }
                for (CompletableFuture<WriteResult> f : pending) assertTrue(f.join().accepted(), "every write commits");
                written += pending.size();
            }
        } finally {
            stop.set(true);
            sampler.join();
            for (Thread r : readers) r.join();
        }
        long dbBytes = Files.size(db);
        long truncations = store.walTruncations();
        long busy = store.walTruncationsBusy();
        store.close();
        System.out.printf("WAL bound test: %d events, db %d KiB, WAL peak %d KiB (bound %d KiB), %d truncations, %d kept busy by readers, %d queries%n",
                written, dbBytes / 1024, maxWal.get() / 1024, WAL_MAX / 1024, truncations, busy, queries.get());
        if (failure.get() != null) throw new AssertionError("a reader failed", failure.get());
        assertTrue(queries.get() > 20, "readers kept querying: " + queries.get());
        assertTrue(dbBytes > 4 * WAL_MAX, "enough was written that an unbounded WAL would pass the bound: db " + dbBytes + " bytes");
        assertTrue(truncations >= 2, "the WAL was reset repeatedly: " + truncations);
        // One batch of 64 events of ~6 KB writes far less than the bound itself, so 2x is "the bound plus one checkpoint's worth".
        assertTrue(maxWal.get() <= 2 * WAL_MAX, "WAL peaked at " + maxWal.get() + " bytes, bound " + WAL_MAX + " (" + written + " events written)");
        assertTrue(maxInUse.get() > 0 && maxInUse.get() <= maxWal.get(), "the log in use was measured within the file: " + maxInUse.get());
    }

    @Test
    void onceWritesStopTheWalFileIsEmptiedTheWriterCacheGivenBackAndEveryEventStaysReadableAndWritable() throws Exception {
        Path db = dir.resolve("nexus.db");
        NostrKey key = NostrKey.generate();
        List<Event> events = new ArrayList<>();
        try (SqliteEventStore store = new SqliteEventStore(db, "normal", 1, BATCH, RetentionPolicy.DEFAULT, WAL_MAX)) {
            List<CompletableFuture<WriteResult>> pending = new ArrayList<>();
            for (int i = 0; i < 300; i++) {
                Event e = key.sign(1, List.of(List.of("t", "idle")), "x".repeat(2000) + i);
                events.add(e);
                pending.add(store.write(e));
            }
            for (CompletableFuture<WriteResult> f : pending) assertTrue(f.join().accepted());
            assertTrue(store.walBytes() > 0, "the writes went through the log");
            assertTrue(store.walBytesInUse() > 0, "the wal-index counts the frames in use");
            long deadline = System.currentTimeMillis() + 20_000;
            while (store.walBytes() > 0 && System.currentTimeMillis() < deadline) sleep(50);
            assertTrue(store.walBytes() == 0, "an idle store truncates its log: " + store.walBytes() + " bytes left");
            assertTrue(store.walBytesInUse() == 0, "and nothing of it is in use: " + store.walBytesInUse());
            Filter idle = ((ClientMessage.Subscribe) new ClientMessageParser(ProtocolLimits.DEFAULT)
                    .parse("[\"REQ\",\"s\",{\"#t\":[\"idle\"]}]")).filters().get(0);
            assertTrue(store.count(List.of(idle), System.currentTimeMillis() / 1000) == events.size(), "every event is still there");

            while (store.writerCacheShrinks() == 0 && System.currentTimeMillis() < deadline) sleep(50);
            assertTrue(store.writerCacheShrinks() > 0, "an idle writer hands its page cache back");
            assertTrue(store.write(events.get(7)).join().status() == WriteResult.Status.DUPLICATE, "the id index is read again after the shrink");
            Event after = key.sign(1, List.of(List.of("t", "idle")), "after the shrink");
            assertTrue(store.write(after).join().accepted(), "writes go on after the shrink");
            assertTrue(store.count(List.of(idle), System.currentTimeMillis() / 1000) == events.size() + 1, "and are read back");
        }
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
