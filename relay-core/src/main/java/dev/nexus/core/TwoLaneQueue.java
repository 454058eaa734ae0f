package dev.nexus.core;

import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A multi-producer queue with a priority lane: a taker always gets the oldest priority item
 * before any normal one, and items keep their order within a lane. Both places where NIP-90 job
 * traffic overtakes other events use it: the verifier pool and the store's writer.
 */
public final class TwoLaneQueue<T> {
    private final Queue<T> priorityLane = new ConcurrentLinkedQueue<>();
    private final Queue<T> normalLane = new ConcurrentLinkedQueue<>();
    /** One permit per queued item and per wake-up, so takers can wait without polling. */
    private final Semaphore queued = new Semaphore(0);
    /**
     * Permits released by {@link #wake} rather than {@link #add}: a taker holding a permit that finds
     * both lanes empty has used one of these.
     */
    private final AtomicInteger wakeUps = new AtomicInteger();

    public void add(T item, boolean priority) {
        (priority ? priorityLane : normalLane).add(item);
        queued.release();
    }

    /**
     * The next item, waiting up to the timeout; null when none came, a {@link #wake} ended the wait,
     * or the thread was interrupted.
     */
    public T poll(long timeout, TimeUnit unit) {
        try {
            return queued.tryAcquire(timeout, unit) ? takeOrWakeUp() : null;
        } catch (InterruptedException e) {
            return null;
        }
    }

    /** The next item, waiting as long as it takes; null when a {@link #wake} ended the wait or the thread was interrupted. */
    public T take() {
        try {
            queued.acquire();
            return takeOrWakeUp();
        } catch (InterruptedException e) {
            return null;
        }
    }

    /**
     * What a worker that waits without a timeout takes next: while {@code mayWait} (it has not been told
     * to stop) the next item, waiting for one, or null when a {@link #wake} ends the wait; once stopped
     * only an item queued now, never a wait, since another worker may have taken the one it saw queued.
     */
    public T next(boolean mayWait) {
        return mayWait ? take() : pollNow();
    }

    /** The next item if one is queued now, else null. */
    public T pollNow() {
        return queued.tryAcquire() ? takeOrWakeUp() : null;
    }

    /**
     * Ends the wait of up to {@code takers} threads in {@link #take} or {@link #poll} (each gets null), or, when fewer
     * wait, the next polls that find the queue empty. How a worker that waits without a timeout is
     * told to look at its stop flag: an idle relay's threads then sleep until there is work, instead
     * of waking a few times a second to look (issue 16: each wake-up costs 80-160 µs on the 2-vCPU VMs).
     */
    public void wake(int takers) {
        wakeUps.addAndGet(takers);
        queued.release(takers);
    }

    /** The oldest priority item if one is queued now, else null; normal items stay queued. */
    public T pollPriorityNow() {
        if (!queued.tryAcquire()) return null;
        T item = priorityLane.poll();
        if (item == null) queued.release(); // the permit was a normal item's: hand it back
        return item;
    }

    /** The oldest normal item if one is queued now, else null; priority items stay queued. */
    public T pollNormalNow() {
        if (!queued.tryAcquire()) return null;
        T item = normalLane.poll();
        if (item == null) queued.release(); // the permit was a priority item's: hand it back
        return item;
    }

    /** Whether a priority item is queued now (a moment's view, for a worker deciding to cut its work short). */
    public boolean hasPriority() {
        return !priorityLane.isEmpty();
    }

    /** Items queued now, both lanes (for metrics: a moment's view under concurrent use, which a wake-up in progress can put one off). */
    public int size() {
        return Math.max(0, queued.availablePermits() - wakeUps.get());
    }

    /**
     * Whether no item is queued. Read from the lanes, not the permits: an item is in its lane before
     * its permit is released and leaves it only when taken, so a worker deciding whether to stop never
     * misses a queued item, nor takes a pending wake-up for one.
     */
    public boolean isEmpty() {
        return priorityLane.isEmpty() && normalLane.isEmpty();
    }

    /** Called holding a permit: one of the lanes has an item for this caller, or the permit was a wake-up's. */
    private T takeOrWakeUp() {
        T item = priorityLane.poll();
        if (item == null) item = normalLane.poll();
        if (item == null) wakeUps.decrementAndGet();
        return item;
    }
}
