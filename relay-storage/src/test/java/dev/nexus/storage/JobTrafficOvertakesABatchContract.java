package dev.nexus.storage;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.nexus.core.Event;
import dev.nexus.core.testing.NostrKey;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Job traffic first (NIP-90 jobs take the writer's priority lane): a job that arrives while the
 * writer is in the middle of a batch of ordinary events does not wait for the rest of that batch.
 * A local backend's test extends this and says how to open its store and hook its writer.
 */
public abstract class JobTrafficOvertakesABatchContract {
    @TempDir protected Path dir;
    private final NostrKey key = NostrKey.generate();

    /** A fresh store in {@code dir} whose writer takes one batch of up to 256 events. */
    protected abstract EventStore open(Path dir);

    /** Runs {@code hook} inside the writer's transaction before each event is stored (the backend's fault-injection hook). */
    protected abstract void beforeStore(EventStore store, Consumer<Event> hook);

    /**
     * How many ordinary events, written at a millisecond each, a job may wait for before its commit:
     * SQLite commits the job with the events written before it arrived, before the next one (0);
     * LMDB, whose commits cost more, within a couple of milliseconds of writing it.
     */
    protected abstract int ordinaryEventsAJobMayWaitFor();

    @Test
    void aJobArrivingMidBatchIsCommittedBeforeTheRestOfTheBatchIsWritten() throws Exception {
        try (EventStore store = open(dir)) {
            Event gate = key.sign(1, "holds the writer until the ordinary events are queued");
            List<Event> social = new ArrayList<>();
            for (int i = 0; i < 200; i++) social.add(key.sign(1, "note " + i));
            Event job = key.sign(5050, List.of(List.of("i", "summarise this", "text")), "");

            AtomicReference<CompletableFuture<WriteResult>> jobWrite = new AtomicReference<>();
            AtomicBoolean jobCommittedBeforeTheRest = new AtomicBoolean();
            HeldWriter writer = new HeldWriter(store, hook -> beforeStore(store, hook), gate, e -> {
                // The job is published while the writer is halfway through the batch of 200.
                if (e.id().equals(social.get(49).id())) jobWrite.set(store.write(job));
                // From then on each ordinary event takes a millisecond to write (a slow disk).
                if (jobWrite.get() != null && e.kind() == 1) pause(1);
                // The job commits after at most that many more ordinary events, long before the rest of the batch is written.
                if (e.id().equals(social.get(50 + ordinaryEventsAJobMayWaitFor()).id())) jobCommittedBeforeTheRest.set(jobWrite.get().isDone());
            });

            writer.writeBehindTheGate(social);
            assertEquals(WriteResult.STORED, jobWrite.get().get(10, TimeUnit.SECONDS));

            List<String> expected = new ArrayList<>();
            expected.add(gate.id());
            social.subList(0, 50).forEach(e -> expected.add(e.id()));
            expected.add(job.id());
            social.subList(50, 200).forEach(e -> expected.add(e.id()));
            assertEquals(expected, writer.storedOrder, "the job is written right after the event during which it arrived; ordinary events keep their order");
            assertTrue(jobCommittedBeforeTheRest.get(), "the job's write completed (committed) before the rest of the batch was written");
        }
    }

    @Test
    void ordinaryEventsStillProgressWhileJobsKeepComing() throws Exception {
        try (EventStore store = open(dir)) {
            Event gate = key.sign(1, "holds the writer until the ordinary events are queued");
            List<Event> social = new ArrayList<>();
            for (int i = 0; i < 50; i++) social.add(key.sign(1, "note " + i));
            List<Event> jobs = new ArrayList<>();
            for (int i = 0; i < 200; i++) jobs.add(key.sign(5050, List.of(List.of("i", "job " + i, "text")), ""));

            List<CompletableFuture<WriteResult>> jobWrites = Collections.synchronizedList(new ArrayList<>());
            HeldWriter writer = new HeldWriter(store, hook -> beforeStore(store, hook), gate, e -> {
                // A stream of jobs: each one written queues the next, so a job always waits.
                int next = jobWrites.size();
                if ((e.kind() == 5050 || e.id().equals(social.get(0).id())) && next < jobs.size()) jobWrites.add(store.write(jobs.get(next)));
            });

            writer.writeBehindTheGate(social);
            for (int i = 0; i < 100 && jobWrites.size() < jobs.size(); i++) Thread.sleep(50);
            for (CompletableFuture<WriteResult> w : List.copyOf(jobWrites)) assertEquals(WriteResult.STORED, w.get(10, TimeUnit.SECONDS));

            int lastSocial = writer.storedOrder.indexOf(social.get(social.size() - 1).id());
            int lastJob = writer.storedOrder.indexOf(jobs.get(jobs.size() - 1).id());
            assertTrue(lastSocial >= 0 && lastJob >= 0, "everything was stored");
            assertTrue(lastSocial < lastJob, "the ordinary events were all written while jobs were still coming, not after the stream ended: "
                    + "last note at " + lastSocial + ", last job at " + lastJob);
        }
    }
    private static void pause(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /**
     * Holds the writer inside a batch holding only {@code gate}, so the events queued meanwhile form
     * the next batch; records the order events are stored in and runs {@code onEach} after each.
     */
    private static final class HeldWriter {
        final List<String> storedOrder = Collections.synchronizedList(new ArrayList<>());
        private final CountDownLatch held = new CountDownLatch(1), release = new CountDownLatch(1);
        private final EventStore store;
        private final Event gate;

        HeldWriter(EventStore store, Consumer<Consumer<Event>> installHook, Event gate, Consumer<Event> onEach) {
            this.store = store;
            this.gate = gate;
            installHook.accept(e -> {
                if (e.id().equals(gate.id())) {
                    held.countDown();
                    try {
                        release.await(10, TimeUnit.SECONDS);
                    } catch (InterruptedException interrupted) {
                        Thread.currentThread().interrupt();
                    }
                }
                storedOrder.add(e.id());
                onEach.accept(e);
            });
        }

        /** Writes the gate, queues {@code events} behind it, lets the writer go, and checks that all of them are stored. */
        void writeBehindTheGate(List<Event> events) throws Exception {
            CompletableFuture<WriteResult> gateWrite = store.write(gate);
            assertTrue(held.await(10, TimeUnit.SECONDS));
            List<CompletableFuture<WriteResult>> writes = events.stream().map(store::write).toList();
            release.countDown();
            assertEquals(WriteResult.STORED, gateWrite.get(10, TimeUnit.SECONDS));
            for (CompletableFuture<WriteResult> w : writes) assertEquals(WriteResult.STORED, w.get(10, TimeUnit.SECONDS));
        }
    }
}
