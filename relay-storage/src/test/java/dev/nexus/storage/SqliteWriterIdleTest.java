package dev.nexus.storage;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.nexus.core.testing.NostrKey;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** An idle writer sleeps until there is work (no look every few hundred milliseconds), and close still ends it. */
class SqliteWriterIdleTest {
    @TempDir Path dir;

    @Test
    void anIdleWriterShrinksItsCacheThenSleepsUntilWorkComesAndCloseEndsIt() throws Exception {
        Set<Thread> before = writerThreads();
        SqliteEventStore store = new SqliteEventStore(dir.resolve("nexus.db"), "normal", 1, 64, RetentionPolicy.DEFAULT, 2L * 1024 * 1024);
        Thread writer;
        try {
            Set<Thread> mine = writerThreads();
            mine.removeAll(before);
            assertEquals(1, mine.size(), "this store's writer thread");
            writer = mine.iterator().next();
            NostrKey key = NostrKey.generate();
            assertTrue(store.write(key.sign(1, "before the rest")).join().accepted());
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
            while (store.writerCacheShrinks() == 0 && System.nanoTime() < deadline) Thread.sleep(20);
            assertEquals(1, store.writerCacheShrinks(), "the idle writer woke once, to hand its cache back");
            Thread.sleep(300);
            assertEquals(Thread.State.WAITING, writer.getState(), "then it waits for work without a timeout");
            assertTrue(store.write(key.sign(1, "after the rest")).join().accepted(), "and the next write wakes it");
        } finally {
            store.close();
        }
        assertFalse(writer.isAlive(), "close woke the waiting writer and ended it");
    }

    private static Set<Thread> writerThreads() {
        return Thread.getAllStackTraces().keySet().stream().filter(t -> t.getName().equals("nexus-writer") && t.isAlive())
                .collect(Collectors.toCollection(HashSet::new));
    }
}
