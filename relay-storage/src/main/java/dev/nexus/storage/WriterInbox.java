package dev.nexus.storage;

import dev.nexus.core.Event;
import dev.nexus.core.TwoLaneQueue;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * Where a local backend's writer thread takes its work from: one two-lane queue of tasks (job
 * traffic in the priority lane, as {@link RetentionPolicy}'s kinds say) and the answers once the
 * writer is shutting down. SQLite's and LMDB's writers share it; how each batches and commits is its own.
 */
public final class WriterInbox {
    /** One unit of the writer's work; each is answered once, after its transaction committed or failed. */
    public sealed interface Task permits StoreEvent, Sweep, Moderate {}

    public record StoreEvent(Event event, boolean jobLane, CompletableFuture<WriteResult> done) implements Task {}

    public record Sweep(long now, int batch, CompletableFuture<Integer> done) implements Task {}

    public record Moderate(Moderation.Change change, Moderation.Entry entry, CompletableFuture<Void> done) implements Task {}

    private final TwoLaneQueue<Task> queue = new TwoLaneQueue<>();
    private volatile boolean open = true;

    /** Queues the event; refused at once when the writer is shutting down. */
    public CompletableFuture<WriteResult> write(Event event, boolean jobLane) {
        CompletableFuture<WriteResult> done = new CompletableFuture<>();
        if (!open) {
            done.complete(WriteResult.error("relay is shutting down"));
            return done;
        }
        queue.add(new StoreEvent(event, jobLane, done), jobLane);
        return done;
    }

    /** Queues a sweep and waits for it: how many expired events it removed (0 when shutting down). */
    public int deleteExpired(long nowSeconds, int batch) {
        if (!open) return 0;
        CompletableFuture<Integer> done = new CompletableFuture<>();
        queue.add(new Sweep(nowSeconds, batch, done), false);
        return done.join();
    }

    public CompletableFuture<Void> moderate(Moderation.Change change, Moderation.Entry entry) {
        CompletableFuture<Void> done = new CompletableFuture<>();
        if (!open) {
            done.completeExceptionally(new StoreException("relay is shutting down", null));
            return done;
        }
        queue.add(new Moderate(change, entry, done), false);
        return done;
    }

    /** The queue the writer thread takes from. */
    public TwoLaneQueue<Task> queue() {
        return queue;
    }

    /** Whether new work is still taken; the writer drains what is queued after this turns false. */
    public boolean open() {
        return open;
    }

    /** Refuses new work and wakes the writer, which may be waiting for work without a timeout. */
    public void close() {
        open = false;
        queue.wake(1);
    }

    public static boolean isJob(Task task) {
        return task instanceof StoreEvent se && se.jobLane();
    }

    /** Answers each task as refused: events with {@code error: why}, sweeps with nothing removed, moderation changes with an exception. */
    public static void refuse(List<? extends Task> tasks, String why, Throwable cause) {
        for (Task task : tasks) {
            if (task instanceof StoreEvent se) se.done().complete(WriteResult.error(why));
            else if (task instanceof Sweep sw) sw.done().complete(0);
            else if (task instanceof Moderate m) m.done().completeExceptionally(new StoreException("could not record the moderation change: " + why, cause));
        }
    }
}
