package dev.nexus.core;

import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;

/**
 * A multi-producer queue with a priority lane: a taker always gets the oldest priority item
 * before any normal one, and items keep their order within a lane. Both places where NIP-90 job
 * traffic overtakes other events use it: the verifier pool and the store's writer.
 */
public final class TwoLaneQueue<T> {
    private final Queue<T> priorityLane = new ConcurrentLinkedQueue<>();
    private final Queue<T> normalLane = new ConcurrentLinkedQueue<>();
    /** One permit per queued item, so takers can wait without polling. */
    private final Semaphore queued = new Semaphore(0);

    public void add(T item, boolean priority) {
        (priority ? priorityLane : normalLane).add(item);
        queued.release();
    }

    /** The next item, waiting up to the timeout; null when none came or the thread was interrupted. */
    public T poll(long timeout, TimeUnit unit) {
        try {
            return queued.tryAcquire(timeout, unit) ? take() : null;
        } catch (InterruptedException e) {
            return null;
        }
    }

    /** The next item if one is queued now, else null. */
    public T pollNow() {
        return queued.tryAcquire() ? take() : null;
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

    /** Items queued now, both lanes (for metrics: a moment's view under concurrent use). */
    public int size() {
        return queued.availablePermits();
    }

    public boolean isEmpty() {
        return queued.availablePermits() == 0;
    }

    /** Called holding a permit, so one of the lanes has an item for this caller. */
    private T take() {
        T item = priorityLane.poll();
        return item != null ? item : normalLane.poll();
    }
}
