package dev.nexus.storage;

import dev.nexus.core.Event;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The single-node live feed: the writer (after commit) and the verifiers (ephemeral events) put
 * events on a bounded in-process queue; one thread, {@code nexus-fanout}, takes them in order and
 * hands them to the sink, so matching against subscriptions never runs on the writer thread.
 *
 * <p>When fan-out falls {@code capacity} events behind, publishers wait for room rather than drop
 * live events: the writer slows down instead of subscribers silently missing events.
 */
public final class LocalLiveFeed implements LiveFeed {
    private static final Logger log = LoggerFactory.getLogger(LocalLiveFeed.class);
    public static final String THREAD_NAME = "nexus-fanout";

    /** Put on the queue by {@link #close} to end the fan-out thread's wait; never delivered. */
    private static final LiveEvent WAKE_UP = new LiveEvent(-1, null, false);

    private final BlockingQueue<LiveEvent> queue;
    private final Object order = new Object();
    private long seq;
    private volatile boolean running;
    private Thread fanOut;

    public LocalLiveFeed(int capacity) {
        this.queue = new ArrayBlockingQueue<>(capacity);
    }

    @Override
    public synchronized void start(Consumer<LiveEvent> sink) {
        if (running) throw new IllegalStateException("the feed is already started");
        running = true;
        fanOut = new Thread(() -> deliver(sink), THREAD_NAME);
        fanOut.setDaemon(true);
        fanOut.start();
    }

    private void deliver(Consumer<LiveEvent> sink) {
        while (running || !queue.isEmpty()) {
            LiveEvent next;
            try {
                // No timeout: close() puts a wake-up on the queue, so an idle fan-out thread costs nothing.
                next = queue.take();
            } catch (InterruptedException e) {
                return;
            }
            if (next == WAKE_UP) continue;
            try {
                sink.accept(next);
            } catch (RuntimeException e) {
                // One event that cannot be delivered (a connection's loop already shut down) must not stop live traffic.
                log.warn("live fan-out of event {} failed: {}", next.event().id(), e.toString());
            }
        }
    }

    @Override
    public CompletableFuture<WriteResult> publish(Event ephemeral) {
        return CompletableFuture.completedFuture(enqueue(ephemeral, false) ? WriteResult.STORED : WriteResult.error("relay is shutting down"));
    }

    @Override
    public void committedHere(Event stored) {
        enqueue(stored, true);
    }

    /** Sequence numbers follow queue order; false once the feed is closed. */
    private boolean enqueue(Event e, boolean stored) {
        synchronized (order) {
            LiveEvent live = new LiveEvent(seq + 1, e, stored);
            try {
                while (running) {
                    if (queue.offer(live, 100, TimeUnit.MILLISECONDS)) {
                        seq++;
                        return true;
                    }
                }
            } catch (InterruptedException ex) {
                Thread.currentThread().interrupt();
            }
            return false;
        }
    }

    /** Events queued by the time of the call (not yet delivered). */
    public int backlog() {
        return queue.size();
    }

    @Override
    public void close() {
        Thread t;
        synchronized (this) {
            running = false;
            t = fanOut;
        }
        if (t == null) return;
        // When the queue is full the thread is not waiting, and it sees running turn false after its next event.
        queue.offer(WAKE_UP);
        try {
            t.join(2000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (t.isAlive()) t.interrupt();
    }
}
