package dev.nexus.server;

import dev.nexus.core.TwoLaneQueue;
import java.util.OptionalInt;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A fixed pool of named daemon threads with two queues: a free worker always takes the oldest
 * priority task before any normal one. The verifiers run on it so that AUTH is checked ahead of a
 * backlog of ordinary events (NIP-90 job traffic is checked on its event loop instead).
 */
public final class TwoLaneExecutor implements Executor {
    private static final Logger log = LoggerFactory.getLogger(TwoLaneExecutor.class);

    private final TwoLaneQueue<Runnable> tasks = new TwoLaneQueue<>();
    private final String threadNamePrefix;
    private final Thread[] workers;
    private volatile boolean running = true;
    private final int niceIncrement;
    private final AtomicBoolean niceReported = new AtomicBoolean();

    public TwoLaneExecutor(String threadNamePrefix, int threads) {
        this(threadNamePrefix, threads, 0);
    }

    /**
     * @param niceIncrement added to each worker's nice value when it starts (0: unchanged), so that
     *                      under a saturated CPU the scheduler gives the relay's other threads their
     *                      turn first; the pool still uses every core the others leave idle
     */
    public TwoLaneExecutor(String threadNamePrefix, int threads, int niceIncrement) {
        this.threadNamePrefix = threadNamePrefix;
        this.niceIncrement = niceIncrement;
        workers = new Thread[threads];
        for (int i = 0; i < threads; i++) {
            workers[i] = new Thread(this::work, threadNamePrefix + "-" + (i + 1));
            workers[i].setDaemon(true);
            workers[i].start();
        }
    }

    /** Queues a task in the normal lane. */
    @Override
    public void execute(Runnable task) {
        execute(task, false);
    }

    /** Queues a task in the priority lane when {@code priority}, else in the normal lane. */
    public void execute(Runnable task, boolean priority) {
        if (!running) throw new RejectedExecutionException("executor is shut down");
        tasks.add(task, priority);
    }

    /** Tasks waiting for a worker, both lanes. */
    public int queued() {
        return tasks.size();
    }

    private void work() {
        if (niceIncrement > 0) lowerPriority();
        while (running || !tasks.isEmpty()) {
            // No timeout while running: shutdown() wakes every worker, so an idle pool costs nothing.
            Runnable task = tasks.next(running);
            if (task == null) continue;
            try {
                task.run();
            } catch (RuntimeException | Error e) {
                log.error("task on {} failed: {}", Thread.currentThread().getName(), e.toString());
            }
        }
        // Passed on, in case another worker still waits because a wake-up of shutdown's was used up by a
        // worker that found the task it had seen already taken.
        tasks.wake(1);
    }

    private void lowerPriority() {
        OptionalInt nice = NiceThreads.lowerThisThread(niceIncrement);
        if (niceReported.compareAndSet(false, true)) {
            if (nice.isPresent()) log.info("{} threads run at nice {}: the rest of the relay comes first when the CPU is saturated", threadNamePrefix, nice.getAsInt());
            else log.info("{} threads could not lower their CPU priority (no /proc/thread-self or renice); they run at the relay's", threadNamePrefix);
        }
    }

    /** Refuses new tasks, runs what is queued and waits up to the timeout for the workers to end. */
    public void shutdown(long timeout, TimeUnit unit) {
        running = false;
        tasks.wake(workers.length);
        long deadline = System.nanoTime() + unit.toNanos(timeout);
        for (Thread worker : workers) {
            long left = deadline - System.nanoTime();
            if (left <= 0) return;
            try {
                worker.join(Math.max(1, TimeUnit.NANOSECONDS.toMillis(left)));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }
}
