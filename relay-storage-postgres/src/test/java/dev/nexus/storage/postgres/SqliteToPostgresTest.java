package dev.nexus.storage.postgres;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.nexus.core.Event;
import dev.nexus.core.testing.NostrKey;
import dev.nexus.storage.RetentionPolicy;
import dev.nexus.storage.SqliteEventStore;
import dev.nexus.storage.WriteResult;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SqliteToPostgresTest {
    private static final long NOW = System.currentTimeMillis() / 1000;
    @TempDir Path dir;

    @Test
    void aSqliteRelaysEventsAndDeletionsMoveToPostgresAndDeletedEventsStayDeleted() throws Exception {
        NostrKey alice = NostrKey.generate();
        Event note = alice.sign(1, List.of(List.of("t", "moved")), "note", NOW - 30);
        Event handler = alice.sign(31990, List.of(List.of("d", "svc"), List.of("k", "5050")), "h", NOW - 20);
        Event job = alice.sign(5050, List.of(), "job", NOW - 10);
        Event cancel = alice.sign(5, List.of(List.of("e", job.id())), "", NOW);
        Path file = dir.resolve("nexus.db");
        try (SqliteEventStore sqlite = new SqliteEventStore(file, "normal", 1, 64, RetentionPolicy.DEFAULT)) {
            for (Event e : List.of(note, handler, job, cancel)) assertTrue(sqlite.write(e).join().accepted());
        }
        try (PostgresEventStore pg = new PostgresEventStore(TestPostgres.freshDatabase(), 1, 64, RetentionPolicy.DEFAULT)) {
            SqliteToPostgres.Copied copied = SqliteToPostgres.copy(file, pg);
            assertEquals(3, copied.stored());
            assertEquals(1, copied.tombstones());
            assertTrue(pg.contains(note.id()) && pg.contains(handler.id()) && pg.contains(cancel.id()));
            WriteResult again = pg.write(job).join();
            assertTrue(again.message().startsWith("blocked:"), again.message());
            assertEquals(0, SqliteToPostgres.copy(file, pg).stored(), "copying twice stores nothing twice");
        }
    }
}
