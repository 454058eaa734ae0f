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
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Job traffic first (NIP-90 jobs take the writer's priority lane): a job that arrives while the
 * writer is in the middle of a batch of ordinary events does not wait for the rest of that batch.
 */
class JobTrafficOvertakesABatchTest {
    @TempDir Path dir;
    private final NostrKey key = NostrKey.generate();

    @Test
    void aJobArrivingMidBatchIsCommittedBeforeTheRestOfTheBatchIsWritten() throws Exception {
        try (SqliteEventStore store = new SqliteEventStore(dir.resolve("nexus.db"), "normal", 1, 256, RetentionPolicy.DEFAULT)) {
            Event gate = key.sign(1, "holds the writer until the ordinary events are queued");
            List<Event> social = new ArrayList<>();
            for (int i = 0; i < 200; i++) social.add(key.sign(1, "note " + i));
            Event job = key.sign(5050, List.of(List.of("i", "summarise this", "text")), "");

            CountDownLatch writerHeld = new CountDownLatch(1), release = new CountDownLatch(1);
            List<String> storedOrder = Collections.synchronizedList(new ArrayList<>());
            AtomicReference<CompletableFuture<WriteResult>> jobWrite = new AtomicReference<>();
            AtomicBoolean jobCommittedBeforeTheRest = new AtomicBoolean();
            store.beforeStore = e -> {
                if (e.id().equals(gate.id())) {
                    writerHeld.countDown();
                    try {
                        release.await(10, TimeUnit.SECONDS);
                    } catch (InterruptedException interrupted) {
                        Thread.currentThread().interrupt();
                    }
                }
                storedOrder.add(e.id());
                // The job is published while the writer is halfway through the batch of 200.
                if (e.id().equals(social.get(49).id())) jobWrite.set(store.write(job));
                // The job commits with at most one ordinary event (the 51st), before the 52nd is written.
                if (e.id().equals(social.get(51).id())) jobCommittedBeforeTheRest.set(jobWrite.get().isDone());
            };

            CompletableFuture<WriteResult> gateWrite = store.write(gate);
            assertTrue(writerHeld.await(10, TimeUnit.SECONDS));
            List<CompletableFuture<WriteResult>> socialWrites = social.stream().map(store::write).toList();
            release.countDown();

            assertEquals(WriteResult.STORED, gateWrite.get(10, TimeUnit.SECONDS));
            for (CompletableFuture<WriteResult> w : socialWrites) assertEquals(WriteResult.STORED, w.get(10, TimeUnit.SECONDS));
            assertEquals(WriteResult.STORED, jobWrite.get().get(10, TimeUnit.SECONDS));

            List<String> expected = new ArrayList<>();
            expected.add(gate.id());
            social.subList(0, 50).forEach(e -> expected.add(e.id()));
            expected.add(job.id());
            social.subList(50, 200).forEach(e -> expected.add(e.id()));
            assertEquals(expected, storedOrder, "the job is written right after the event during which it arrived; ordinary events keep their order");
            assertTrue(jobCommittedBeforeTheRest.get(), "the job's write completed (committed) before the rest of the batch was written");
        }
    }
    @Test
    void ordinaryEventsStillProgressWhileJobsKeepComing() throws Exception {
        try (SqliteEventStore store = new SqliteEventStore(dir.resolve("nexus.db"), "normal", 1, 256, RetentionPolicy.DEFAULT)) {
            Event gate = key.sign(1, "holds the writer until the ordinary events are queued");
            List<Event> social = new ArrayList<>();
            for (int i = 0; i < 50; i++) social.add(key.sign(1, "note " + i));
            List<Event> jobs = new ArrayList<>();
            for (int i = 0; i < 200; i++) jobs.add(key.sign(5050, List.of(List.of("i", "job " + i, "text")), ""));

            CountDownLatch writerHeld = new CountDownLatch(1), release = new CountDownLatch(1);
            List<String> storedOrder = Collections.synchronizedList(new ArrayList<>());
            List<CompletableFuture<WriteResult>> jobWrites = Collections.synchronizedList(new ArrayList<>());
            store.beforeStore = e -> {
                if (e.id().equals(gate.id())) {
                    writerHeld.countDown();
                    try {
                        release.await(10, TimeUnit.SECONDS);
                    } catch (InterruptedException interrupted) {
                        Thread.currentThread().interrupt();
                    }
                }
                storedOrder.add(e.id());
                // A stream of jobs: each one written queues the next, so a job always waits.
                int next = jobWrites.size();
                if ((e.kind() == 5050 || e.id().equals(social.get(0).id())) && next < jobs.size()) jobWrites.add(store.write(jobs.get(next)));
            };

            CompletableFuture<WriteResult> gateWrite = store.write(gate);
            assertTrue(writerHeld.await(10, TimeUnit.SECONDS));
            List<CompletableFuture<WriteResult>> socialWrites = social.stream().map(store::write).toList();
            release.countDown();
            assertEquals(WriteResult.STORED, gateWrite.get(10, TimeUnit.SECONDS));
            for (CompletableFuture<WriteResult> w : socialWrites) assertEquals(WriteResult.STORED, w.get(10, TimeUnit.SECONDS));
            for (int i = 0; i < 100 && jobWrites.size() < jobs.size(); i++) Thread.sleep(50);
            for (CompletableFuture<WriteResult> w : List.copyOf(jobWrites)) assertEquals(WriteResult.STORED, w.get(10, TimeUnit.SECONDS));

            int lastSocial = storedOrder.indexOf(social.get(social.size() - 1).id());
            int lastJob = storedOrder.indexOf(jobs.get(jobs.size() - 1).id());
            assertTrue(lastSocial >= 0 && lastJob >= 0, "everything was stored");
            assertTrue(lastSocial < lastJob, "the ordinary events were all written while jobs were still coming, not after the stream ended: "
                    + "last note at " + lastSocial + ", last job at " + lastJob);
        }
    }
}
