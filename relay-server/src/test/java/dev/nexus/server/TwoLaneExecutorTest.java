package dev.nexus.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class TwoLaneExecutorTest {

    @Test
    void aFreeWorkerTakesEveryQueuedPriorityTaskBeforeAnyNormalOneAndKeepsEachLaneInOrder() throws Exception {
        TwoLaneExecutor executor = new TwoLaneExecutor("test-lanes", 1);
        try {
            CountDownLatch started = new CountDownLatch(1);
            CountDownLatch release = new CountDownLatch(1);
            List<String> ran = new CopyOnWriteArrayList<>();
            executor.execute(() -> {
                started.countDown();
                await(release);
            });
            assertTrue(started.await(5, TimeUnit.SECONDS));
            CountDownLatch done = new CountDownLatch(5);
            for (String name : List.of("note-1", "job-1", "note-2", "job-2", "note-3")) {
                executor.execute(() -> {
                    ran.add(name);
                    done.countDown();
                }, name.startsWith("job"));
            }
            release.countDown();
            assertTrue(done.await(5, TimeUnit.SECONDS));
            assertEquals(List.of("job-1", "job-2", "note-1", "note-2", "note-3"), ran);
        } finally {
            executor.shutdown(5, TimeUnit.SECONDS);
        }
    }

    @Test
    void aFailingTaskDoesNotStopTheWorker() throws Exception {
        TwoLaneExecutor executor = new TwoLaneExecutor("test-lanes", 1);
        try {
            executor.execute(() -> {
                throw new IllegalStateException("boom");
            });
            CountDownLatch next = new CountDownLatch(1);
            executor.execute(next::countDown);
            assertTrue(next.await(5, TimeUnit.SECONDS));
        } finally {
            executor.shutdown(5, TimeUnit.SECONDS);
        }
    }

    @Test
    void idleWorkersWaitWithoutATimeoutAndShutdownEndsThem() {
        TwoLaneExecutor executor = new TwoLaneExecutor("idle-lanes", 3);
        sleep(200);
        List<Thread> workers = Thread.getAllStackTraces().keySet().stream().filter(t -> t.getName().startsWith("idle-lanes-")).toList();
        assertEquals(3, workers.size());
        for (Thread w : workers) assertEquals(Thread.State.WAITING, w.getState(), "an idle worker waits for work with no timeout to wake it");
        executor.shutdown(10, TimeUnit.SECONDS);
        assertTrue(Thread.getAllStackTraces().keySet().stream().noneMatch(t -> t.getName().startsWith("idle-lanes-") && t.isAlive()),
                "shutdown woke and ended every idle worker");
    }

    @Test
    void shutdownEndsEveryWorkerHoweverItsWakeUpsAreShared() {
        for (int round = 0; round < 200; round++) {
            String name = "stop-round-" + round;
            TwoLaneExecutor executor = new TwoLaneExecutor(name, 4);
            if (round % 2 == 1) executor.execute(() -> { }); // a task racing the wake-ups for the workers' attention
            executor.shutdown(10, TimeUnit.SECONDS);
            assertTrue(Thread.getAllStackTraces().keySet().stream().noneMatch(t -> t.getName().startsWith(name + "-") && t.isAlive()),
                    "round " + round + ": every worker ended");
        }
    }

    @Test
    void shutdownRunsWhatIsQueuedAndRefusesNewTasks() throws Exception {
        TwoLaneExecutor executor = new TwoLaneExecutor("test-lanes", 2);
        CountDownLatch release = new CountDownLatch(1);
        List<Integer> ran = new CopyOnWriteArrayList<>();
        for (int i = 0; i < 2; i++) executor.execute(() -> await(release));
        for (int i = 0; i < 10; i++) {
            int n = i;
            executor.execute(() -> ran.add(n), n % 2 == 0);
        }
        Thread releaser = new Thread(() -> {
            sleep(100);
            release.countDown();
        });
        releaser.start();
        executor.shutdown(5, TimeUnit.SECONDS);
        assertEquals(10, ran.size());
        assertThrows(RejectedExecutionException.class, () -> executor.execute(() -> {}));
    }

    private static void await(CountDownLatch latch) {
        try {
            latch.await(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
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
