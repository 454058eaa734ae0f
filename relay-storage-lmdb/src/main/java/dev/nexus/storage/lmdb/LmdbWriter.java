package dev.nexus.storage.lmdb;

import dev.nexus.core.Event;
import dev.nexus.core.TwoLaneQueue;
import dev.nexus.storage.EventStore;
import dev.nexus.storage.Moderation;
import dev.nexus.storage.WriteResult;
import dev.nexus.storage.WriteRules;
import dev.nexus.storage.WriterInbox;
import dev.nexus.storage.WriterInbox.Moderate;
import dev.nexus.storage.WriterInbox.StoreEvent;
import dev.nexus.storage.WriterInbox.Sweep;
import dev.nexus.storage.WriterInbox.Task;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.Supplier;
import org.lmdbjava.Env;
import org.lmdbjava.Txn;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The LMDB writer thread ("nexus-writer"): LMDB takes one writer at a time, so every write goes
 * through this thread, which writes its two-lane queue into one transaction per batch and completes
 * each write only after the commit. Job traffic is taken first (but never twice in a row while an
 * ordinary task waits, so ordinary work progresses under a stream of jobs), and a transaction holding
 * job traffic commits at most {@link #JOB_COMMIT_NANOS} after it, so a job never waits for a whole
 * batch of ordinary events.
 */
final class LmdbWriter {
    private static final Logger log = LoggerFactory.getLogger(LmdbWriter.class);


    /**
     * How long job traffic written into a transaction waits for the commit while more work is queued.
     * LMDB writes every changed page at each commit (a path through each index's B-tree, and a flush
     * of the data pages), so a commit per job would cost more than the job: within this bound the
     * transaction goes on taking queued work (job traffic first), so jobs wait milliseconds and
     * commits stay large under a mix that is half job traffic. Measured (JOBS and STORE, one run
     * each): 2 ms gave job OK p99 54 ms under the flood and STORE 0.255 CPU-s per 1k events; 10 ms
     * 88 ms and 0.204; no bound 104 ms and 0.212. Job traffic first is the relay's promise: 2 ms.
     */
    static final long JOB_COMMIT_NANOS = TimeUnit.MILLISECONDS.toNanos(2);

    private final Env<ByteBuffer> env;
    private final WriteRules rules;
    private final int batchMax;
    private final LmdbTransaction tx;
    private final Supplier<Consumer<Event>> beforeStore;
    private final WriterInbox inbox = new WriterInbox();
    private final TwoLaneQueue<Task> tasks = inbox.queue();
    private final Thread thread;
    /** Set while batches fail (e.g. disk full), so the log gets one line when writes stop and one when they resume. */
    private boolean writesFailing;
    private volatile EventStore.WriteObserver writeObserver = (writes, nanos) -> { };

    LmdbWriter(Env<ByteBuffer> env, WriteRules rules, int batchMax, LmdbTransaction tx, Supplier<Consumer<Event>> beforeStore) {
        this.env = env;
        this.rules = rules;
        this.batchMax = batchMax;
        this.tx = tx;
        this.beforeStore = beforeStore;
        thread = new Thread(this::writeLoop, "nexus-writer");
        thread.setDaemon(false);
    }

    void start() {
        thread.start();
    }

    CompletableFuture<WriteResult> write(Event event, boolean jobLane) {
        return inbox.write(event, jobLane);
    }

    int deleteExpired(long nowSeconds, int batch) {
        return inbox.deleteExpired(nowSeconds, batch);
    }

    CompletableFuture<Void> moderate(Moderation.Change change, Moderation.Entry entry) {
        return inbox.moderate(change, entry);
    }

    void observe(EventStore.WriteObserver observer) {
        writeObserver = observer;
    }

    int queued() {
        return tasks.size();
    }

    /** Lets the queue drain, then stops the thread; returns false when the thread is still running after 30 s. */
    boolean close() {
        inbox.close();
        try {
            thread.join(30000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return !thread.isAlive();
    }

    private void writeLoop() {
        while (inbox.open() || !tasks.isEmpty()) {
            // No timeout while open: close() wakes this thread, so an idle writer costs nothing.
            Task first = tasks.next(inbox.open());
            if (first == null) continue;
            try {
                runTransaction(first);
            } catch (Throwable t) {
                // Never reached while runTransaction keeps its promise; the writer must not die silently either way.
                log.error("writer: unexpected failure outside a batch: {}", t.toString());
            }
        }
        // A task queued just as the loop saw the queue empty after close: answered, never left hanging.
        for (Task late = tasks.pollNow(); late != null; late = tasks.pollNow()) WriterInbox.refuse(List.of(late), "relay is shutting down", null);
    }

    /** The next task: job traffic first, except that after a job an ordinary task that waits goes next (so ordinary work progresses under a stream of jobs). */
    private Task next(Task previous) {
        Task ordinary = WriterInbox.isJob(previous) ? tasks.pollNormalNow() : null;
        return ordinary != null ? ordinary : tasks.pollNow();
    }

    /**
     * One transaction: {@code first}, then whatever is queued, job traffic first, until the batch
     * limit, an empty queue, or job traffic in it having waited {@link #JOB_COMMIT_NANOS}; then the
     * commit, and only then the answers.
     */
    private void runTransaction(Task first) {
        long started = System.nanoTime();
        List<Task> batch = new ArrayList<>();
        batch.add(first); // before the transaction opens, so that a failure to open it answers this task too
        List<Runnable> afterCommit = new ArrayList<>();
        try (Txn<ByteBuffer> txn = env.txnWrite()) {
            tx.begin(txn);
            long firstJobAt = 0;
            for (Task task = first; task != null; task = next(task)) {
                if (task != first) batch.add(task);
                if (task instanceof StoreEvent se) {
                    Consumer<Event> hook = beforeStore.get();
                    if (hook != null) hook.accept(se.event());
                    WriteResult result = rules.apply(tx, se.event());
                    afterCommit.add(() -> se.done().complete(result));
                } else if (task instanceof Sweep sw) {
                    int removed = tx.deleteExpired(sw.now(), sw.batch());
                    afterCommit.add(() -> sw.done().complete(removed));
                } else if (task instanceof Moderate m) {
                    tx.moderate(m.change(), m.entry());
                    afterCommit.add(() -> m.done().complete(null));
                }
                if (firstJobAt == 0 && WriterInbox.isJob(task)) firstJobAt = System.nanoTime();
                if (batch.size() >= batchMax || firstJobAt != 0 && System.nanoTime() - firstJobAt >= JOB_COMMIT_NANOS) break;
            }
            tx.finish();
            txn.commit();
        } catch (Throwable e) {
            // Any failure (the disk or the map full, a bug) fails this batch only; the transaction was aborted by close.
            if (!writesFailing) {
                writesFailing = true;
                log.error("writes are failing, events are refused with OK false until storage recovers: {}", e.toString());
            }
            WriterInbox.refuse(batch, isFull(e) ? "the relay's storage is full; try again later" : "could not store the event", e);
            return;
        }
        if (writesFailing) {
            writesFailing = false;
            log.info("writes succeed again");
        }
        writeObserver.batchCommitted(afterCommit.size(), System.nanoTime() - started);
        afterCommit.forEach(Runnable::run);
    }

    /** MDB_MAP_FULL, or ENOSPC from the file system. */
    private static boolean isFull(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof Env.MapFullException) return true;
            String m = String.valueOf(t.getMessage());
            if (m.contains("No space left") || m.contains("ENOSPC") || m.contains("error code 28")) return true;
        }
        return false;
    }
}
