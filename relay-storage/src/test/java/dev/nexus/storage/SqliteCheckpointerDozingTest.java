package dev.nexus.storage;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.nexus.core.testing.NostrKey;
import java.nio.file.Path;
import java.util.List;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * An idle relay should cost the machine nothing: once the log is copied back and rests, the
 * checkpointer looks at it once a second instead of fifty times, and the writer's next commit
 * brings it back to its close watch at once.
 */
class SqliteCheckpointerDozingTest {
    private static final long WAIT_MILLIS = 60_000; // a condition to wait for on a shared machine, never a speed assertion
    @TempDir Path dir;

    @Test
    void aRestingLogIsLookedAtOnceASecondAndTheNextCommitWakesTheCheckpointer() throws Exception {
        SqliteEventStore store = new SqliteEventStore(dir.resolve("nexus.db"), "normal", 2, 64, RetentionPolicy.DEFAULT, 64L * 1024 * 1024);
        try {
            SqliteWal wal = store.wal();
            NostrKey key = NostrKey.generate();
            assertTrue(store.write(key.sign(1, List.of(), "before the rest")).join().accepted());
            awaitCondition(wal::dozing, "the checkpointer dozes once the log rests");
            assertEquals(0, wal.wakes(), "nothing has woken it yet");

            long looksBefore = wal.looks();
            // Half a doze interval past a whole number of them: the write below lands between two dozing looks. A look
            // that happens to read the log between the commit and the writer's call to committed() takes the wake-up
            // itself (by design), and a write a whole number of seconds after the doze began made that likely (CI, once).
            Thread.sleep(3 * SqliteWal.DOZING_INTERVAL_MILLIS + SqliteWal.DOZING_INTERVAL_MILLIS / 2);
            long looks = wal.looks() - looksBefore;
            assertTrue(looks <= 6, "a dozing checkpointer looks about once a second, not every 20 ms: " + looks + " looks in 3.5 s");
            assertTrue(wal.dozing(), "still dozing: nothing was written");

            assertTrue(store.write(key.sign(1, List.of(), "after the rest")).join().accepted());
            awaitCondition(() -> wal.wakes() == 1, "the commit wakes the checkpointer");
            awaitCondition(() -> store.walBytes() == 0, "the woken checkpointer copies the log back and, idle again, truncates it");
        } finally {
            store.close();
        }
    }

    private static void awaitCondition(BooleanSupplier condition, String what) throws InterruptedException {
        long end = System.currentTimeMillis() + WAIT_MILLIS;
        while (!condition.getAsBoolean()) {
            if (System.currentTimeMillis() > end) fail("not within " + WAIT_MILLIS / 1000 + " s: " + what);
            Thread.sleep(10);
        }
    }
}
