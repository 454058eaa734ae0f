package dev.nexus.server;

import dev.nexus.core.TwoLaneQueue;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A fixed pool of named daemon threads with two queues: a free worker always takes the oldest
 * priority task before any normal one. The verifiers run on it so that NIP-90 job traffic and
 * AUTH are checked ahead of a backlog of ordinary events (the same rule as the writer's lanes).
 */
public final class TwoLaneExecutor implements Executor {
    private static final Logger log = LoggerFactory.getLogger(TwoLaneExecutor.class);

    private final TwoLaneQueue<Runnable> tasks = new TwoLaneQueue<>();
    private final Thread[] workers;
    private volatile boolean running = true;

    public TwoLaneExecutor(String threadNamePrefix, int threads) {
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
        while (running || !tasks.isEmpty()) {
            Runnable task = tasks.poll(200, TimeUnit.MILLISECONDS);
            if (task == null) continue;
            try {
                task.run();
            } catch (RuntimeException | Error e) {
                log.error("task on {} failed: {}", Thread.currentThread().getName(), e.toString());
            }
        }
    }

    /** Refuses new tasks, runs what is queued and waits up to the timeout for the workers to end. */
    public void shutdown(long timeout, TimeUnit unit) {
        running = false;
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
