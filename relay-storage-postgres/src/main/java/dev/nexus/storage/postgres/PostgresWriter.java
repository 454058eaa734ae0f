package dev.nexus.storage.postgres;

import com.zaxxer.hikari.HikariDataSource;
import dev.nexus.core.Event;
import dev.nexus.core.TwoLaneQueue;
import dev.nexus.storage.EventStore;
import dev.nexus.storage.WriteResult;
import dev.nexus.storage.WriteRules;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The node's writer thread ("nexus-writer"): drains its two-lane queue into one transaction per
 * batch (group commit), takes the batch's author locks, applies {@link WriteRules} to each event
 * through a {@link PostgresTransaction}, appends the new events to the cluster feed, commits, and
 * only then completes each write.
 */
final class PostgresWriter {
    private static final Logger log = LoggerFactory.getLogger(PostgresWriter.class);

    private record WriteTask(Event event, boolean ephemeral, boolean job, CompletableFuture<WriteResult> done) {}

    private final HikariDataSource writers;
    private final WriteRules rules;
    private final int batchMax;
    private final TwoLaneQueue<WriteTask> tasks = new TwoLaneQueue<>();
    private final Thread writer;
    private volatile boolean running = true;
    private volatile boolean databaseDown;
    private volatile EventStore.WriteObserver writeObserver = (writes, nanos) -> { };
    /**
     * Operator-banned event ids (NIP-86) as this node knows them: loaded at start, changed by this
     * node's moderation calls and brought up to date whenever the relay re-reads the moderation
     * table. Each batch also reads its own ids against that table ({@link PostgresTransaction#prefetch}),
     * so another node's ban holds here at once.
     */
    private volatile Set<String> bannedEventIds;
    /** While job traffic flows, an ordinary batch takes about this long: the most a job waits for the writer. */
    private static final long ORDINARY_BATCH_NANOS = TimeUnit.MILLISECONDS.toNanos(20);
    /** Job traffic seen this recently keeps ordinary batches short; without it they are {@code batchMax} long. */
    private static final long JOBS_LATELY_NANOS = TimeUnit.SECONDS.toNanos(10);
    private static final int MIN_ORDINARY_BATCH = 8;
    /** Ordinary events per batch while job traffic flows; writer thread only. */
    private int ordinaryCap;
    private long lastJobNanos = System.nanoTime() - JOBS_LATELY_NANOS;

    PostgresWriter(HikariDataSource writers, WriteRules rules, int batchMax, Set<String> bannedEventIds) {
        this.writers = writers;
        this.rules = rules;
        this.batchMax = batchMax;
        this.ordinaryCap = batchMax;
        this.bannedEventIds = Set.copyOf(bannedEventIds);
        writer = new Thread(this::writeLoop, "nexus-writer");
        writer.start();
    }

    Set<String> bannedEventIds() {
        return bannedEventIds;
    }

    void bannedEventIds(Set<String> ids) {
        bannedEventIds = Set.copyOf(ids);
    }

    void observe(EventStore.WriteObserver observer) {
        writeObserver = observer;
    }

    int queued() {
        return tasks.size();
    }

    CompletableFuture<WriteResult> enqueue(Event event, boolean ephemeral, boolean jobLane) {
        CompletableFuture<WriteResult> done = new CompletableFuture<>();
        if (!running) {
            done.complete(WriteResult.error("relay is shutting down"));
            return done;
        }
        tasks.add(new WriteTask(event, ephemeral, jobLane, done), jobLane);
        return done;
    }

    /** Lets the queue drain, then stops the thread. */
    void close() {
        running = false;
        tasks.wake(1);
        try {
            writer.join(30000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private void writeLoop() {
        List<WriteTask> batch = new ArrayList<>(batchMax);
        while (running || !tasks.isEmpty()) {
            try {
                boolean jobs = fill(batch);
                if (batch.isEmpty()) continue;
                long started = System.nanoTime();
                runBatch(batch);
                if (!jobs) fitOrdinaryBatches(batch.size(), System.nanoTime() - started);
            } catch (Throwable t) {
                // The writer must outlive anything one batch can throw; its writes are answered, never dropped.
                log.error("writer: unexpected failure, answering {} writes with an error: {}", batch.size(), t.toString());
                for (WriteTask task : batch) task.done().complete(WriteResult.error("could not store the event"));
            } finally {
                batch.clear();
            }
        }
    }

    /**
     * The next batch; true when it is job traffic. Jobs waiting in the priority lane get a batch of
     * their own, with at most one ordinary event (so ordinary writes still progress under a stream of
     * jobs): a job then waits for at most the batch being written when it arrived, not also for a
     * full batch of social events committed with it. Otherwise ordinary events, up to
     * {@code batchMax}, or while job traffic has been seen lately up to {@link #ordinaryCap}.
     */
    private boolean fill(List<WriteTask> batch) {
        // The priority lane's oldest when it has one. No timeout while running: close() wakes this thread, so an
        // idle writer costs nothing.
        WriteTask first = tasks.next(running);
        if (first == null) return false;
        batch.add(first);
        if (first.job()) {
            lastJobNanos = System.nanoTime();
            for (WriteTask job = tasks.pollPriorityNow(); job != null; job = batch.size() < batchMax ? tasks.pollPriorityNow() : null) batch.add(job);
            if (batch.size() < batchMax) {
                WriteTask ordinary = tasks.pollNow();
                if (ordinary != null) batch.add(ordinary);
            }
            return true;
        }
        int max = System.nanoTime() - lastJobNanos < JOBS_LATELY_NANOS ? ordinaryCap : batchMax;
        // A job queued while this batch fills ends it: the job then waits for this batch only.
        while (batch.size() < max && !tasks.hasPriority()) {
            WriteTask next = tasks.pollNow();
            if (next == null) break;
            batch.add(next);
        }
        return false;
    }

    /**
     * Sizes ordinary batches so that one takes about {@link #ORDINARY_BATCH_NANOS}: under a social
     * flood a full batch of 256 took ~100 ms on PostgreSQL, and a job arriving meanwhile waited for
     * all of it. Only full batches say how many fit (a partial one only shrinks the size).
     */
    private void fitOrdinaryBatches(int size, long nanos) {
        if (nanos <= 0) return;
        if (size < ordinaryCap && nanos <= ORDINARY_BATCH_NANOS) return;
        // batchMax wins over the minimum: an operator's write_batch_max below 8 is still the most per commit.
        long fits = Math.min(batchMax, Math.max(MIN_ORDINARY_BATCH, size * ORDINARY_BATCH_NANOS / nanos));
        ordinaryCap = (int) ((ordinaryCap + fits) / 2); // both at most batchMax, so their mean is too
    }

    private void runBatch(List<WriteTask> batch) {
        try {
            long started = System.nanoTime();
            List<WriteResult> results = commit(batch);
            writeObserver.batchCommitted(batch.size(), System.nanoTime() - started);
            if (databaseDown) {
                databaseDown = false;
                log.info("PostgreSQL is reachable again; writes resume");
            }
            for (int i = 0; i < batch.size(); i++) batch.get(i).done().complete(results.get(i));
        } catch (SQLException e) {
            if (isConnectionFailure(e)) {
                if (!databaseDown) {
                    databaseDown = true;
                    log.error("PostgreSQL unreachable ({}); writes are answered with an error until it is back", e.getMessage());
                }
                for (WriteTask task : batch) task.done().complete(WriteResult.error("the database is unreachable, try again later"));
            } else if (batch.size() > 1) {
                // One event (or a lock timeout) must not fail its neighbours: retry each on its own.
                log.warn("write batch of {} failed ({}); retrying its events one by one", batch.size(), e.getMessage());
                for (WriteTask task : batch) runBatch(List.of(task));
            } else {
                log.error("storing event {} failed: {}", batch.get(0).event().id(), e.getMessage());
                batch.get(0).done().complete(WriteResult.error("could not store the event"));
            }
        }
    }

    /** One transaction for the whole batch; the results, in batch order, count only once it has committed. */
    private List<WriteResult> commit(List<WriteTask> batch) throws SQLException {
        try (Connection c = writers.getConnection()) {
            try {
                PostgresTransaction tx = new PostgresTransaction(c, bannedEventIds);
                List<Event> durable = new ArrayList<>(batch.size());
                for (WriteTask task : batch) if (!task.ephemeral()) durable.add(task.event());
                Locks.lockAuthors(c, durable);
                tx.prefetch(durable);
                List<WriteResult> results = new ArrayList<>(batch.size());
                List<Event> live = new ArrayList<>(batch.size());
                List<Boolean> stored = new ArrayList<>(batch.size());
                for (WriteTask task : batch) {
                    WriteResult r = task.ephemeral() ? WriteResult.STORED : rules.apply(tx, task.event());
                    results.add(r);
                    if (r.isNew()) {
                        live.add(task.event());
                        stored.add(!task.ephemeral());
                    }
                }
                tx.flush();
                if (!live.isEmpty()) PostgresFeedAppend.append(c, live, stored);
                c.commit();
                return results;
            } catch (SQLException | RuntimeException e) {
                try {
                    c.rollback();
                } catch (SQLException ignored) {
                    // the connection is broken; HikariCP will discard it
                }
                throw e;
            }
        }
    }

    /** Connection-level failures (SQLSTATE class 08, a pool timeout, a closed socket) as opposed to a statement's error. */
    static boolean isConnectionFailure(SQLException e) {
        String state = e.getSQLState();
        if (state != null && (state.startsWith("08") || state.equals("57P01") || state.equals("57P02") || state.equals("57P03"))) return true;
        if (e instanceof java.sql.SQLTransientConnectionException) return true;
        Throwable cause = e.getCause();
        return cause instanceof java.io.IOException;
    }

}
