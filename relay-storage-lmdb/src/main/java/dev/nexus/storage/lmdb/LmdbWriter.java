package dev.nexus.storage.lmdb;

import dev.nexus.core.Event;
import dev.nexus.core.TwoLaneQueue;
import dev.nexus.storage.EventStore;
import dev.nexus.storage.Moderation;
import dev.nexus.storage.StoreException;
import dev.nexus.storage.WriteResult;
import dev.nexus.storage.WriteRules;
import java.nio.ByteBuffer;
import java.util.ArrayDeque;
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
 * through this thread, which drains its two-lane queue into one transaction per batch and completes
 * each write only after the commit. Job traffic commits in a transaction of its own (with one
 * ordinary task, so ordinary work always progresses); a batch of ordinary events being written when
 * a job arrives is committed as far as it got, the job goes next and the rest follows.
 */
final class LmdbWriter {
    private static final Logger log = LoggerFactory.getLogger(LmdbWriter.class);

    private sealed interface WriteTask permits StoreEvent, Sweep, Moderate {}
    private record StoreEvent(Event event, CompletableFuture<WriteResult> done) implements WriteTask {}
    private record Sweep(long now, int batch, CompletableFuture<Integer> done) implements WriteTask {}
    private record Moderate(Moderation.Change change, Moderation.Entry entry, CompletableFuture<Void> done) implements WriteTask {}

    private final Env<ByteBuffer> env;
    private final WriteRules rules;
    private final int batchMax;
    private final LmdbTransaction tx;
    private final Supplier<Consumer<Event>> beforeStore;
    private final TwoLaneQueue<WriteTask> tasks = new TwoLaneQueue<>();
    private final Thread thread;
    private volatile boolean running = true;
    private long nextSeq;
    /** Set while batches fail (e.g. disk full), so the log gets one line when writes stop and one when they resume. */
    private boolean writesFailing;
    private volatile EventStore.WriteObserver writeObserver = (writes, nanos) -> { };

    LmdbWriter(Env<ByteBuffer> env, WriteRules rules, int batchMax, LmdbTransaction tx, long nextSeq, Supplier<Consumer<Event>> beforeStore) {
        this.env = env;
        this.rules = rules;
        this.batchMax = batchMax;
        this.tx = tx;
        this.nextSeq = nextSeq;
        this.beforeStore = beforeStore;
        thread = new Thread(this::writeLoop, "nexus-writer");
        thread.setDaemon(false);
    }

    void start() {
        thread.start();
    }

    CompletableFuture<WriteResult> write(Event event, boolean jobLane) {
        CompletableFuture<WriteResult> done = new CompletableFuture<>();
        if (!running) {
            done.complete(WriteResult.error("relay is shutting down"));
            return done;
        }
        tasks.add(new StoreEvent(event, done), jobLane);
        return done;
    }

    int deleteExpired(long nowSeconds, int batch) {
        if (!running) return 0;
        CompletableFuture<Integer> done = new CompletableFuture<>();
        tasks.add(new Sweep(nowSeconds, batch, done), false);
        return done.join();
    }

    CompletableFuture<Void> moderate(Moderation.Change change, Moderation.Entry entry) {
        CompletableFuture<Void> done = new CompletableFuture<>();
        if (!running) {
            done.completeExceptionally(new StoreException("relay is shutting down", null));
            return done;
        }
        tasks.add(new Moderate(change, entry, done), false);
        return done;
    }

    void observe(EventStore.WriteObserver observer) {
        writeObserver = observer;
    }

    int queued() {
        return tasks.size();
    }

    /** Lets the queue drain, then stops the thread. */
    void close() {
        running = false;
        try {
            thread.join(30000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private void writeLoop() {
        List<WriteTask> batch = new ArrayList<>(batchMax);
        // What a batch cut short for job traffic left unwritten; written next, ahead of newer ordinary tasks.
        ArrayDeque<WriteTask> carried = new ArrayDeque<>();
        while (running || !tasks.isEmpty() || !carried.isEmpty()) {
            for (WriteTask job = tasks.pollPriorityNow(); job != null; job = batch.size() < batchMax ? tasks.pollPriorityNow() : null) batch.add(job);
            if (!batch.isEmpty()) {
                // Job traffic commits on its own, with one ordinary task so that ordinary work progresses under a stream of jobs.
                WriteTask ordinary = carried.isEmpty() ? tasks.pollNow() : carried.removeFirst();
                if (ordinary != null) batch.add(ordinary);
                runGuarded(batch, false);
                batch.clear();
                continue;
            }
            batch.addAll(carried);
            carried.clear();
            WriteTask next = batch.isEmpty() ? tasks.poll(200, TimeUnit.MILLISECONDS) : tasks.pollNow();
            for (; next != null; next = batch.size() < batchMax ? tasks.pollNow() : null) batch.add(next);
            if (batch.isEmpty()) continue;
            int written = runGuarded(batch, true);
            carried.addAll(batch.subList(written, batch.size()));
            batch.clear();
        }
    }

    /** {@link #runBatch}, never letting anything escape the writer thread; returns how much of the batch was done. */
    private int runGuarded(List<WriteTask> batch, boolean yieldToJobs) {
        int done = batch.size();
        try {
            done = runBatch(batch, yieldToJobs);
        } catch (Throwable t) {
            // Never reached while runBatch keeps its promise; the writer must not die silently either way.
            log.error("writer: unexpected failure outside a batch: {}", t.toString());
        }
        return done;
    }

    /**
     * Writes and commits the batch, or with {@code yieldToJobs} the part of it before the first
     * ordinary task met while job traffic waits (at least one task is written), so a job never waits
     * for a whole batch; returns how many tasks were written (all of them when the batch failed).
     */
    private int runBatch(List<WriteTask> batch, boolean yieldToJobs) {
        long started = System.nanoTime();
        List<Runnable> afterCommit = new ArrayList<>(batch.size());
        try (Txn<ByteBuffer> txn = env.txnWrite()) {
            tx.begin(txn, nextSeq);
            for (WriteTask task : batch) {
                if (yieldToJobs && !afterCommit.isEmpty() && tasks.hasPriority()) break;
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
            }
            txn.commit();
            nextSeq = tx.nextSeq();
        } catch (Throwable e) {
            // Any failure (the disk or the map full, a bug) fails this batch only; the transaction was aborted by close.
            if (!writesFailing) {
                writesFailing = true;
                log.error("writes are failing, events are refused with OK false until storage recovers: {}", e.toString());
            }
            String why = isFull(e) ? "the relay's storage is full; try again later" : "could not store the event";
            for (WriteTask task : batch) {
                if (task instanceof StoreEvent se) se.done().complete(WriteResult.error(why));
                else if (task instanceof Sweep sw) sw.done().complete(0);
                else if (task instanceof Moderate m) m.done().completeExceptionally(new StoreException("could not record the moderation change: " + e, e));
            }
            return batch.size();
        }
        if (writesFailing) {
            writesFailing = false;
            log.info("writes succeed again");
        }
        writeObserver.batchCommitted(afterCommit.size(), System.nanoTime() - started);
        afterCommit.forEach(Runnable::run);
        return afterCommit.size();
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
