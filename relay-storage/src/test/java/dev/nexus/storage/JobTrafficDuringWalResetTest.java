package dev.nexus.storage;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.nexus.core.Event;
import dev.nexus.core.testing.NostrKey;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Job traffic first, also when the write-ahead log is reset: while the checkpointer copies the log
 * back, the writer commits jobs; only ordinary events wait for the reset.
 */
class JobTrafficDuringWalResetTest {
    private static final long WAL_MAX = 512 * 1024;
    @TempDir Path dir;
    private final NostrKey key = NostrKey.generate();

    @Test
    void aJobPublishedWhileTheCheckpointerCatchesUpIsCommittedWithoutWaitingForIt() throws Exception {
        try (SqliteEventStore store = new SqliteEventStore(dir.resolve("nexus.db"), "normal", 1, 64, RetentionPolicy.DEFAULT, WAL_MAX)) {
            CountDownLatch release = new CountDownLatch(1);
            // Every passive checkpoint from now on is held, the connection it runs on with it, until released.
            store.wal().beforePassive = () -> await(release);

            List<CompletableFuture<WriteResult>> ordinary = new ArrayList<>();
            long deadline = System.currentTimeMillis() + 30_000;
            for (int i = 0; store.wal().catchUps() == 0 && System.currentTimeMillis() < deadline; i++) {
                ordinary.add(store.write(key.sign(1, List.of(List.of("t", "flood")), "x".repeat(4000) + i)));
                if (i % 64 == 63) Thread.sleep(5);
            }
            assertTrue(store.wal().catchUps() > 0, "the writer passed the bound and asked the checkpointer to catch up");
            CompletableFuture<WriteResult> waitingOrdinary = store.write(key.sign(1, "an ordinary event behind the reset"));

            Event job = key.sign(5050, List.of(List.of("i", "summarise this", "text")), "");
            assertEquals(WriteResult.STORED, store.write(job).get(10, TimeUnit.SECONDS),
                    "the job commits while the log is still being copied back");
            assertFalse(waitingOrdinary.isDone(), "ordinary events wait for the reset");

            release.countDown();
            assertTrue(waitingOrdinary.get(10, TimeUnit.SECONDS).accepted(), "and are committed once it is done");
            for (CompletableFuture<WriteResult> w : ordinary) assertTrue(w.get(10, TimeUnit.SECONDS).accepted());
            assertTrue(store.walTruncations() > 0, "the log was reset");
            // The wal-index counts the old frames until the next write rewinds the log; one small write does.
            assertTrue(store.write(key.sign(1, "after the reset")).get(10, TimeUnit.SECONDS).accepted());
            assertTrue(store.walBytesInUse() < WAL_MAX, "and is back within its bound: " + store.walBytesInUse());
        }
    }

    private static void await(CountDownLatch latch) {
        try {
            latch.await(20, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
