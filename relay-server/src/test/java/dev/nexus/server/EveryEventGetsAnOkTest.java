package dev.nexus.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.nexus.core.Event;
import dev.nexus.core.testing.NostrKey;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** NIP-01 through a real relay: an EVENT whose id can be read is answered with an OK for that id, whatever else is wrong. */
class EveryEventGetsAnOkTest {
    @TempDir Path dir;

    @Test
    void hostileEventFramesAreEachAnsweredWithOkFalseInvalid() throws Exception {
        NostrKey key = NostrKey.generate();
        try (TestRelay relay = TestRelay.start(dir, "[auth]\nrequired = false\n");
             RelayClient client = RelayClient.connect(relay)) {
            List<String> hostile = List.of("\"kind\":1e400", "\"created_at\":99999999999999999999999999",
                    "\"x\":" + "[".repeat(5000) + "]".repeat(5000), "\"tags\":[[[[[[[[[[[[[[[[[[[[[[[[\"e\"]]]]]]]]]]]]]]]]]]]]]]]]", "\"content\":{}");
            for (String field : hostile) {
                Event e = key.sign(1, List.of(), "payload " + field.length());
                client.send("[\"EVENT\",{" + field + "," + e.json().substring(1) + "]");
                JsonNode ok = client.ok(e.id());
                assertNotNull(ok, "no OK for an EVENT with " + field.substring(0, Math.min(40, field.length())));
                assertFalse(ok.get(2).asBoolean());
                assertTrue(ok.get(3).asText().startsWith("invalid: "), ok.toString());
            }
            // The connection is still usable afterwards.
            Event good = key.sign(1, "still here");
            assertEquals(true, client.publishAndWait(good).get(2).asBoolean());
        }
    }
}
