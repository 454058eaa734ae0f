package dev.nexus.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.OptionalInt;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/** A pool's threads lower their own CPU priority through the real renice; no other thread is touched. */
class NiceThreadsTest {
    private static final Path THIS_THREAD = Path.of("/proc/thread-self");

    @org.junit.jupiter.api.BeforeEach
    void linuxWithRenice() throws Exception {
        assumeTrue(Files.exists(THIS_THREAD), "no /proc/thread-self: not Linux, nothing to lower");
        boolean renice = false;
        for (String d : System.getenv().getOrDefault("PATH", "").split(java.io.File.pathSeparator)) renice |= Files.isExecutable(Path.of(d, "renice"));
        assumeTrue(renice, "no renice on PATH (util-linux or busybox): the relay's verifiers then run at its own priority");
        assumeTrue(NiceThreads.niceOf(THIS_THREAD) <= 15, "already at the lowest priority: a raise could not be seen");
    }

    @Test
    void aThreadRaisesItsOwnNiceValueByTheIncrementAndLeavesTheOtherThreadsAlone() throws Exception {
        int callerBefore = NiceThreads.niceOf(THIS_THREAD);
        AtomicReference<int[]> seen = new AtomicReference<>();
        AtomicReference<OptionalInt> returned = new AtomicReference<>();
        Thread t = new Thread(() -> {
            try {
                int before = NiceThreads.niceOf(THIS_THREAD);
                returned.set(NiceThreads.lowerThisThread(3));
                seen.set(new int[] {before, NiceThreads.niceOf(THIS_THREAD)});
            } catch (Exception e) {
                throw new AssertionError(e);
            }
        }, "nice-test");
        t.start();
        t.join(10_000);

        int before = seen.get()[0], after = seen.get()[1];
        assertEquals(Math.min(19, before + 3), after, "the thread's own nice value went up by 3");
        assertEquals(OptionalInt.of(after), returned.get());
        assertEquals(callerBefore, NiceThreads.niceOf(THIS_THREAD), "the calling test thread kept its priority");
    }

    @Test
    void anExecutorsWorkersRunItsTasksAtTheLowerPriorityWhileAnIncrementOfZeroChangesNothing() throws Exception {
        int base = NiceThreads.niceOf(THIS_THREAD);
        assertEquals(List.of(Math.min(19, base + 4), Math.min(19, base + 4)), nicesSeenByTasks(new TwoLaneExecutor("test-nice", 2, 4), 2));
        assertEquals(List.of(base), nicesSeenByTasks(new TwoLaneExecutor("test-plain", 1), 1));
    }

    /** Runs one task per worker at once (each holds its worker until all have started) and returns the nice values they ran at. */
    private static List<Integer> nicesSeenByTasks(TwoLaneExecutor executor, int workers) throws Exception {
        try {
            List<Integer> nices = new CopyOnWriteArrayList<>();
            CountDownLatch allRunning = new CountDownLatch(workers);
            for (int i = 0; i < workers; i++) {
                executor.execute(() -> {
                    try {
                        nices.add(NiceThreads.niceOf(THIS_THREAD));
                        allRunning.countDown();
                        allRunning.await(10, TimeUnit.SECONDS);
                    } catch (Exception e) {
                        throw new AssertionError(e);
                    }
                });
            }
            assertTrue(allRunning.await(10, TimeUnit.SECONDS));
            assertTrue(Files.exists(THIS_THREAD));
            return nices;
        } finally {
            executor.shutdown(5, TimeUnit.SECONDS);
        }
    }
}
