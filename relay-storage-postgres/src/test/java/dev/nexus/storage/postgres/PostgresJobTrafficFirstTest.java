package dev.nexus.storage.postgres;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.nexus.core.Event;
import dev.nexus.core.testing.NostrKey;
import dev.nexus.storage.RetentionPolicy;
import dev.nexus.storage.WriteResult;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/**
 * Job traffic first on PostgreSQL too: a job queued behind a backlog of ordinary events is committed
 * in a batch of its own (with at most one ordinary event), not with a full batch of social events.
 */
class PostgresJobTrafficFirstTest {
    private final NostrKey key = NostrKey.generate();

    /** One committed batch: its size, and whether the job had already been answered before it. */
    private record Batch(int size, boolean jobAnsweredBefore) {}

    @Test
    void aJobQueuedBehindABacklogIsCommittedInABatchOfItsOwnBeforeTheBacklog() throws Exception {
        List<Event> social = new ArrayList<>();
        for (int i = 0; i < 3000; i++) social.add(key.sign(1, "note " + i));
        Event job = key.sign(5050, List.of(List.of("i", "summarise this", "text")), "");

        try (PostgresEventStore store = new PostgresEventStore(TestPostgres.freshDatabase(), 2, 256, RetentionPolicy.DEFAULT)) {
            AtomicReference<CompletableFuture<WriteResult>> jobWrite = new AtomicReference<>();
            List<Batch> batches = Collections.synchronizedList(new ArrayList<>());
            // Called on the writer thread after each commit and before that batch's writes are answered.
            store.observeWrites((writes, nanos) -> {
                CompletableFuture<WriteResult> w = jobWrite.get();
                batches.add(new Batch(writes, w != null && w.isDone()));
            });

            List<CompletableFuture<WriteResult>> socialWrites = social.stream().map(store::write).toList();
            jobWrite.set(store.write(job));
            assertEquals(WriteResult.STORED, jobWrite.get().get(30, TimeUnit.SECONDS));
            for (CompletableFuture<WriteResult> w : socialWrites) assertEquals(WriteResult.STORED, w.get(60, TimeUnit.SECONDS));

            List<Batch> seen = List.copyOf(batches);
            int jobBatch = -1;
            for (int i = 0; i < seen.size(); i++) if (!seen.get(i).jobAnsweredBefore()) jobBatch = i;
            assertTrue(jobBatch >= 0 && jobBatch < seen.size() - 1, "the job was answered while ordinary events were still queued: " + seen);
            assertTrue(seen.get(jobBatch).size() <= 2, "the job's batch holds the job and at most one ordinary event: " + seen);
            int writtenAfterTheJob = seen.subList(jobBatch + 1, seen.size()).stream().mapToInt(Batch::size).sum();
            assertTrue(writtenAfterTheJob > 256, "the job overtook more than a batch of the backlog (" + writtenAfterTheJob + " written after it)");
        }
    }
}
