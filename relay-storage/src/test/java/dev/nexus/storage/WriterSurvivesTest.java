package dev.nexus.storage;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.nexus.core.Event;
import dev.nexus.core.Filter;
import dev.nexus.core.testing.NostrKey;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The writer survives anything: a failing batch is refused with OK false "error: ..." and later writes succeed. */
class WriterSurvivesTest {
    @TempDir Path dir;
    private final NostrKey key = NostrKey.generate();

    @ParameterizedTest
    @ValueSource(strings = {"runtime", "error", "oom"})
    void aFailureInsideABatchFailsThatBatchAndTheWriterGoesOn(String kind) throws Exception {
        try (SqliteEventStore store = new SqliteEventStore(dir.resolve("nexus.db"), "normal", 1, 64, RetentionPolicy.DEFAULT)) {
            Event poison = key.sign(1, "poison");
            store.beforeStore = e -> {
                if (!e.id().equals(poison.id())) return;
                switch (kind) {
                    case "runtime" -> throw new IllegalStateException("injected");
                    case "error" -> throw new AssertionError("injected");
                    default -> throw new OutOfMemoryError("injected");
                }
            };
            WriteResult failed = store.write(poison).get(10, TimeUnit.SECONDS);
            assertFalse(failed.accepted());
            assertTrue(failed.message().startsWith("error: "), failed.message());
            Event next = key.sign(1, "after the failure");
            assertEquals(WriteResult.STORED, store.write(next).get(10, TimeUnit.SECONDS), "the writer is still alive");
            List<StoredEvent> found = store.query(new Filter(Set.of(poison.id(), next.id()), null, null, null, null, null, null), 10, 0);
            assertEquals(List.of(next.id()), found.stream().map(StoredEvent::id).toList(), "the failed batch was rolled back");
        }
    }
}
