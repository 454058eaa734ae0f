package dev.nexus.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.nexus.core.Event;
import dev.nexus.core.testing.NostrKey;
import dev.nexus.storage.RetentionPolicy;
import dev.nexus.storage.SqliteEventStore;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Expensive queries end: a per-query budget answers CLOSED error: and the worker moves on; oversized filters are invalid. */
class ExpensiveQueriesTest {
    @TempDir Path dir;

    @Test
    void aQueryPastItsBudgetIsClosedWithAnErrorAndTheWorkerMovesOn() throws Exception {
        NostrKey key = NostrKey.generate();
        Event last = null;
        // Fill the database directly (signatures are checked by the relay, not the store).
        try (SqliteEventStore store = new SqliteEventStore(dir.resolve("nexus.db"), "normal", 1, 1024, RetentionPolicy.DEFAULT)) {
            List<CompletableFuture<?>> writes = new ArrayList<>();
            for (int i = 0; i < 30_000; i++) {
                last = key.sign(1, List.of(List.of("t", "t" + (i % 97))), "note " + i);
                writes.add(store.write(last));
            }
            CompletableFuture.allOf(writes.toArray(new CompletableFuture[0])).join();
        }
        try (TestRelay relay = TestRelay.start(dir, "[auth]\nrequired = false\n[server]\nquery_threads = 1\n[limits]\nmax_query_millis = 1\n");
             RelayClient c = RelayClient.connect(relay)) {
            // Two overlapping filters: the count must de-duplicate ~60,000 matches, which no index
            // makes cheap (a single-filter count over a narrow index can finish within 1 ms).
            c.send("[\"COUNT\",\"everything\",{},{\"kinds\":[1],\"since\":1}]");
            JsonNode answer = c.next(m -> m.size() > 1 && m.get(1).asText().equals("everything"), 20000);
            assertEquals("CLOSED", answer.get(0).asText(), answer.toString());
            assertTrue(answer.get(2).asText().startsWith("error: "), answer.toString());
            // The one query worker is free again: a cheap lookup is answered.
            assertEquals(List.of(last.id()), c.queryIds("one", "{\"ids\":[\"" + last.id() + "\"]}"));
        }
    }

    @Test
    void aFilterBindingMoreValuesThanTheStoreTakesIsClosedInvalid() throws Exception {
        try (TestRelay relay = TestRelay.start(dir, "[auth]\nrequired = false\n[limits]\nmax_filter_values = 40000\nmax_message_bytes = 1048576\n");
             RelayClient c = RelayClient.connect(relay)) {
            StringBuilder values = new StringBuilder();
            for (int i = 0; i < 40_000; i++) values.append(i == 0 ? "" : ",").append('"').append(i).append('"');
            c.req("huge", "{\"#t\":[" + values + "]}");
            JsonNode closed = c.expect("CLOSED", 20000);
            assertTrue(closed.get(2).asText().startsWith("invalid: "), closed.toString());
        }
    }
}
