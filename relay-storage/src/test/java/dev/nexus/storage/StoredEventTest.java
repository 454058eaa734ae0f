package dev.nexus.storage;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;

import dev.nexus.core.Event;
import dev.nexus.core.testing.NostrKey;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

class StoredEventTest {
    private static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    @Test
    void theIdOfAnEventAsTheRelayWritesItIsReadFromTheFirstBytes() {
        Event e = NostrKey.generate().sign(1, List.of(List.of("t", "x")), "hello");
        StoredEvent stored = StoredEvent.withIdAtStart(e.createdAt(), e.jsonUtf8());
        assertNotNull(stored);
        assertEquals(e.id(), stored.id());
        assertSame(stored.id(), stored.id(), "read once, then kept");
        assertEquals(e.createdAt(), stored.createdAt());
        assertSame(e.jsonUtf8(), stored.json(), "the bytes the query fetched, not a copy");
    }

    @Test
    void jsonLaidOutOtherwiseGivesNoEventSoTheStoredColumnIsUsed() {
        String hex = "a".repeat(64);
        assertNull(StoredEvent.withIdAtStart(1, utf8("{\"pubkey\":\"" + hex + "\",\"id\":\"" + hex + "\"}")), "id not first");
        assertNull(StoredEvent.withIdAtStart(1, utf8("{ \"id\":\"" + hex + "\"}")), "whitespace before the key");
        assertNull(StoredEvent.withIdAtStart(1, utf8("{\"id\":\"" + hex + "0\"}")), "65 characters");
        assertNull(StoredEvent.withIdAtStart(1, utf8("{\"id\":\"" + hex.substring(1) + "\"}")), "63 characters");
        // A valid id spelled with an escape (not how the relay writes it) is longer than 64 bytes.
        assertNull(StoredEvent.withIdAtStart(1, utf8("{\"id\":\"\\u0061" + hex.substring(1) + "\"}")), "an escaped digit");
        assertNull(StoredEvent.withIdAtStart(1, utf8("{\"id\":\"")), "truncated");
        assertNull(StoredEvent.withIdAtStart(1, null));
    }

    @Test
    void anIdGivenByTheCallerIsKeptAsGiven() {
        String hex = "b".repeat(64);
        StoredEvent fromColumn = new StoredEvent(hex, 7, utf8("{\"kind\":1,\"id\":\"" + hex + "\"}"));
        assertEquals(hex, fromColumn.id());
        assertEquals(7, fromColumn.createdAt());
    }
}
