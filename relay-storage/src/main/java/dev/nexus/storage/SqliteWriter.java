package dev.nexus.storage;

import dev.nexus.core.Event;
import dev.nexus.core.TwoLaneQueue;
import dev.nexus.storage.WriterInbox.Moderate;
import dev.nexus.storage.WriterInbox.StoreEvent;
import dev.nexus.storage.WriterInbox.Sweep;
import dev.nexus.storage.WriterInbox.Task;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Consumer;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The SQLite writer thread ("nexus-writer"): drains its two-lane queue into one transaction per
 * batch (group commit: one fsync amortised over the batch), applies {@link WriteRules} to each
 * event through {@link WriterStatements}, and completes each write's future only after the commit.
 * Job traffic does not wait for a batch of ordinary events: when a job arrives while a batch is
 * being written, it is written next, into the same transaction, which then commits (one commit, not
 * the batch's and then the job's own); the rest of the batch follows. A job at the head of a batch
 * commits with at most one ordinary event, so ordinary work progresses even under a stream of jobs.
 */
final class SqliteWriter {
    private static final Logger log = LoggerFactory.getLogger(SqliteWriter.class);
    /** How long a batch waits for another connection's write lock before its events are refused (as busy_timeout). */
    private static final long BUSY_WAIT_NANOS = TimeUnit.SECONDS.toNanos(10);
    /**
     * After this long without a batch the writer hands its page cache back (PRAGMA shrink_memory):
     * the cache (cache_size, 32 MB) speeds a busy writer's index updates, but an idle relay should
     * not hold it (issue 16, W4); the pages are read back from the OS page cache when writes resume.
     */
    private static final long IDLE_SHRINK_NANOS = TimeUnit.SECONDS.toNanos(2);


    private final Connection connection;
    private final WriteRules rules;
    private final int batchMax;
    private final SqliteWal wal;
    private final WriterStatements st;
    /** Operator-banned event ids (NIP-86): read and changed only by the writer thread after start. */
    private final Set<String> bannedEventIds;
    private final Supplier<Consumer<Event>> beforeStore;
    private final WriterInbox inbox = new WriterInbox();
    private final TwoLaneQueue<Task> tasks = inbox.queue();
    private final Thread thread;
    /** Set while batches fail (e.g. disk full), so the log gets one line when writes stop and one when they resume. */
    private boolean writesFailing;
    private volatile int cacheShrinks;
    private volatile EventStore.WriteObserver writeObserver = (writes, nanos) -> { };

    SqliteWriter(Connection connection, WriteRules rules, int batchMax, SqliteWal wal, Set<String> bannedEventIds,
                 Supplier<Consumer<Event>> beforeStore) throws SQLException {
        this.connection = connection;
        this.rules = rules;
        this.batchMax = batchMax;
        this.wal = wal;
        this.bannedEventIds = bannedEventIds;
        this.beforeStore = beforeStore;
        this.st = new WriterStatements(connection, bannedEventIds);
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

    /** Lets the queue drain, then stops the thread and closes the statements (not the connection). */
    void close() throws SQLException {
        inbox.close();
        try {
            thread.join(30000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        st.close();
    }

    private void writeLoop() {
        List<Task> batch = new ArrayList<>(batchMax);
        // What a batch cut short for job traffic left unwritten; written next, ahead of newer ordinary events.
        List<Task> carried = new ArrayList<>();
        long lastBatchNanos = System.nanoTime();
        boolean cacheShrunk = false;
        while (inbox.open() || !tasks.isEmpty() || !carried.isEmpty()) {
            fill(batch, tasks.pollPriorityNow(), tasks::pollPriorityNow);
            batch.addAll(carried);
            carried.clear();
            if (batch.isEmpty()) fill(batch, nextWhenIdle(cacheShrunk, lastBatchNanos), tasks::pollNow);
            else topUp(batch, tasks::pollNow);
            if (batch.isEmpty()) {
                if (!cacheShrunk && System.nanoTime() - lastBatchNanos > IDLE_SHRINK_NANOS) {
                    shrinkCache();
                    cacheShrunk = true;
                }
                continue;
            }
            cacheShrunk = false;
            try {
                int written = runBatch(batch);
                carried.addAll(batch.subList(written, batch.size()));
                lastBatchNanos = System.nanoTime();
                batch.clear();
                // Only this thread grows the WAL, so checking after each commit bounds it to two batches past the limit
                // (plus the job traffic committed while the checkpointer catches up).
                wal.committed();
                String reset = wal.resetDue();
                if (reset != null) resetAfterCatchingUp(reset, batch);
            } catch (Throwable t) {
                // Never reached while runBatch keeps its promise; the writer must not die silently either way.
                log.error("writer: unexpected failure outside a batch: {}", t.toString());
            }
            batch.clear();
        }
    }

    /**
     * Past the WAL bound: while the checkpointer copies the log back (a passive checkpoint, which
     * blocks no writer), this thread commits job traffic only; ordinary events wait, as they would for
     * the reset itself. The reset then has only the jobs' few frames left to copy, so a job never
     * waits behind the whole copy (under a social flood that pause was 28-107 ms every half second).
     * {@code jobs} is an empty list to reuse.
     */
    private void resetAfterCatchingUp(String mode, List<Task> jobs) {
        // No deadline: a passive checkpoint never waits on this thread, and the reset below could not start before it ends anyway.
        CompletableFuture<Void> caughtUp = wal.catchUp();
        while (!caughtUp.isDone()) {
            fill(jobs, tasks.pollPriorityNow(), tasks::pollPriorityNow);
            if (!jobs.isEmpty()) {
                runBatch(jobs); // job traffic only: never cut short
                jobs.clear();
                continue;
            }
            try {
                caughtUp.get(1, TimeUnit.MILLISECONDS);
            } catch (TimeoutException stillCopying) {
                // look for job traffic again
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            } catch (ExecutionException cannotHappen) {
                break;
            }
        }
        fill(jobs, tasks.pollPriorityNow(), tasks::pollPriorityNow);
        if (!jobs.isEmpty()) runBatch(jobs);
        jobs.clear();
        wal.reset(mode);
    }

    /**
     * An idle writer's next task: it waits until its cache is due to shrink, and after that until there is
     * work (close() wakes it); once closed it drains what is queued without waiting. Null: nothing came.
     */
    private Task nextWhenIdle(boolean cacheShrunk, long lastBatchNanos) {
        if (cacheShrunk || !inbox.open()) return tasks.next(inbox.open());
        return tasks.poll(untilShrinkDue(lastBatchNanos), TimeUnit.NANOSECONDS);
    }

    /** Nanoseconds until an idle writer's cache is due to shrink (at least one, so that an overdue shrink is not a busy loop). */
    private static long untilShrinkDue(long lastBatchNanos) {
        return Math.max(1, IDLE_SHRINK_NANOS - (System.nanoTime() - lastBatchNanos) + 1);
    }

    int cacheShrinks() {
        return cacheShrinks;
    }

    private void shrinkCache() {
        try (var statement = connection.createStatement()) {
            statement.execute("PRAGMA shrink_memory");
            connection.commit();
            cacheShrinks++;
        } catch (SQLException e) {
            log.debug("writer: shrink_memory failed: {}", e.getMessage());
        }
    }

    /** Adds first and then what more poll hands out at once, up to the batch limit. */
    private void fill(List<Task> batch, Task first, Supplier<Task> poll) {
        for (Task next = first; next != null; next = batch.size() < batchMax ? poll.get() : null) batch.add(next);
    }

    /** Like {@link #fill}, but takes nothing once the batch is at the limit (carried tasks may have filled it). */
    private void topUp(List<Task> batch, Supplier<Task> poll) {
        if (batch.size() < batchMax) fill(batch, poll.get(), poll);
    }

    private static boolean isJob(Task task) {
        return WriterInbox.isJob(task);
    }

    /**
     * Before an ordinary task, once the transaction holds at least one ordinary task (so ordinary
     * work always progresses, even under a stream of jobs): whether job traffic is already written
     * (then the transaction commits here) or waits in the queue (then it joins this transaction and
     * commits with it). Job traffic commits with the ordinary events written before it arrived,
     * instead of after a commit of their own.
     */
    private boolean jobTrafficCommitsHere(Task next, int ordinaryWritten, int jobsWritten) {
        return !isJob(next) && ordinaryWritten > 0 && (jobsWritten > 0 || tasks.hasPriority());
    }

    /**
     * Moves the job traffic waiting in the queue into the batch at {@code at} (at most a batch's
     * worth), so that it is written into the open transaction, retried and refused with the batch
     * like the rest of it. Returns how many were moved.
     */
    private int takeWaitingJobTraffic(List<Task> batch, int at) {
        int moved = 0;
        for (Task job; moved < batchMax && (job = tasks.pollPriorityNow()) != null; moved++) batch.add(at + moved, job);
        return moved;
    }

    /** Writes and commits a prefix of the batch (all of it unless job traffic cut it short); returns its length. */
    private int runBatch(List<Task> batch) {
        long started = System.nanoTime();
        // Futures complete only after the commit, so each task leaves its completion in this list meanwhile.
        List<Runnable> afterCommit;
        try {
            afterCommit = commitWaitingForTheLock(batch, started + BUSY_WAIT_NANOS);
        } catch (Throwable e) {
            // Any exception or error (SQLite full, a bug, an Error) fails this batch only; the writer goes on.
            if (!writesFailing) {
                writesFailing = true;
                log.error("writes are failing, events are refused with OK false until storage recovers: {}", e.toString());
            }
            rollbackQuietly();
            String why = isDiskFull(e) ? "the relay's storage is full; try again later" : "could not store the event";
            WriterInbox.refuse(batch, why, e);
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

    /**
     * Runs and commits the batch. Another connection may hold the write lock (an admin command, a
     * backup): SQLite does not wait by itself when a transaction that has already read wants to write,
     * so the batch is rolled back and tried again until the lock is free or the busy budget is spent.
     */
    private List<Runnable> commitWaitingForTheLock(List<Task> batch, long busyDeadline) throws Throwable {
        long pauseMillis = 1;
        while (true) {
            try {
                return commitOnce(batch);
            } catch (Throwable e) {
                if (!isBusy(e) || System.nanoTime() >= busyDeadline) throw e;
                rollbackQuietly();
                // Job traffic the failed attempt took in mid-batch goes to the head, ahead of any job that arrives
                // during the pause, so the retry writes the jobs in the order they came and commits them first.
                jobTrafficFirst(batch);
                Thread.sleep(pauseMillis);
                pauseMillis = Math.min(pauseMillis * 2, 50);
            }
        }
    }

    /** Moves the batch's job traffic to its head, each part keeping its order. */
    private static void jobTrafficFirst(List<Task> batch) {
        List<Task> ordinary = new ArrayList<>(batch.size());
        int jobs = 0;
        for (Task t : batch) {
            if (isJob(t)) batch.set(jobs++, t);
            else ordinary.add(t);
        }
        for (int i = 0; i < ordinary.size(); i++) batch.set(jobs + i, ordinary.get(i));
    }

    private List<Runnable> commitOnce(List<Task> batch) throws SQLException {
        List<Runnable> afterCommit = new ArrayList<>(batch.size());
        // The jobs' OKs go out first after the commit, ahead of the ordinary events committed with them.
        List<Runnable> jobsAfterCommit = new ArrayList<>(4);
        int ordinaryWritten = 0, jobsWritten = 0;
        for (int i = 0; i < batch.size(); i++) {
            Task task = batch.get(i);
            if (jobTrafficCommitsHere(task, ordinaryWritten, jobsWritten)) {
                if (jobsWritten > 0 || takeWaitingJobTraffic(batch, i) == 0) break;
                task = batch.get(i);
            }
            if (isJob(task)) jobsWritten++;
            else ordinaryWritten++;
            List<Runnable> completions = isJob(task) ? jobsAfterCommit : afterCommit;
            if (task instanceof StoreEvent se) {
                Consumer<Event> hook = beforeStore.get();
                if (hook != null) hook.accept(se.event());
                WriteResult result = rules.apply(st, se.event());
                completions.add(() -> se.done().complete(result));
            } else if (task instanceof Sweep sw) {
                int removed = st.deleteExpired(sw.now(), sw.batch());
                completions.add(() -> sw.done().complete(removed));
            } else if (task instanceof Moderate m) {
                applyModeration(m.change(), m.entry());
                completions.add(() -> m.done().complete(null));
            }
        }
        connection.commit();
        jobsAfterCommit.addAll(afterCommit);
        return jobsAfterCommit;
    }

    private void rollbackQuietly() {
        try {
            connection.rollback();
        } catch (Throwable alreadyRolledBack) {
            // SQLite rolls back by itself on some errors (SQLITE_FULL): the driver's rollback then fails and
            // does not open the next transaction, so open it here or every later commit fails.
            try (java.sql.Statement begin = connection.createStatement()) {
                begin.execute("BEGIN");
            } catch (Throwable stillBroken) {
                // the next batch will report it
            }
        }
    }

    /** SQLITE_BUSY and its extended codes (BUSY_SNAPSHOT, BUSY_RECOVERY...): someone else holds the lock. */
    private static boolean isBusy(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof org.sqlite.SQLiteException se && (se.getResultCode().code & 0xff) == 5) return true;
        }
        return false;
    }

    private static boolean isDiskFull(Throwable e) {
        String m = String.valueOf(e.getMessage());
        return m.contains("SQLITE_FULL") || m.contains("database or disk is full");
    }

    /** On the writer thread, inside its transaction. */
    private void applyModeration(Moderation.Change change, Moderation.Entry entry) throws SQLException {
        Long bannedSeq = SqliteModeration.apply(connection, change, entry);
        if (!entry.category().equals(Moderation.BANNED_EVENT)) return;
        if (change == Moderation.Change.REMOVE) bannedEventIds.remove(entry.value());
        else bannedEventIds.add(entry.value());
        if (bannedSeq != null) st.delete(bannedSeq);
    }
}
