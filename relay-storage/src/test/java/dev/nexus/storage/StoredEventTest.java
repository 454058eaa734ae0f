package dev.nexus.storage;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

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
        assertEquals(e.id(), StoredEvent.idAtStart(e.jsonUtf8()));
    }

    @Test
    void jsonThatDoesNotStartWithALowercaseHexIdGivesNullSoTheStoredColumnIsUsed() {
        String hex = "a".repeat(64);
        assertNull(StoredEvent.idAtStart(utf8("{\"pubkey\":\"" + hex + "\",\"id\":\"" + hex + "\"}")), "id not first");
        assertNull(StoredEvent.idAtStart(utf8("{ \"id\":\"" + hex + "\"}")), "whitespace before the key");
        assertNull(StoredEvent.idAtStart(utf8("{\"id\":\"" + "A".repeat(64) + "\"}")), "uppercase hex");
        assertNull(StoredEvent.idAtStart(utf8("{\"id\":\"" + hex + "0\"}")), "65 characters");
        assertNull(StoredEvent.idAtStart(utf8("{\"id\":\"" + hex.substring(1) + "\"}")), "63 characters");
        assertNull(StoredEvent.idAtStart(utf8("{\"id\":\"")), "truncated");
        assertNull(StoredEvent.idAtStart(null));
    }
}
