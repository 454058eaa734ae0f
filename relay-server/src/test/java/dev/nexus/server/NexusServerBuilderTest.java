package dev.nexus.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.nexus.config.NexusConfig;
import dev.nexus.core.Event;
import dev.nexus.core.Filter;
import dev.nexus.core.SignatureVerifier;
import dev.nexus.core.SignatureVerifiers;
import dev.nexus.core.testing.NostrKey;
import dev.nexus.storage.RetentionPolicy;
import dev.nexus.storage.SqliteEventStore;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The relay built with given parts: a store opened by the test, a verifier that counts, a clock set in the past. */
class NexusServerBuilderTest {
    private static final long THEN = 1_600_000_000L;
    @TempDir Path dir;
    private final NostrKey alice = NostrKey.generate();

    @Test
    void theGivenStoreVerifierAndClockAreTheOnesTheRelayUses() throws Exception {
        SqliteEventStore store = new SqliteEventStore(dir.resolve("given.db"), "normal", 2, 64, RetentionPolicy.DEFAULT);
        SignatureVerifier real = SignatureVerifiers.best();
        AtomicInteger verified = new AtomicInteger();
        SignatureVerifier counting = new SignatureVerifier() {
            @Override
            public boolean verify(byte[] pubkey32, byte[] message32, byte[] signature64) {
                verified.incrementAndGet();
                return real.verify(pubkey32, message32, signature64);
            }

            @Override
            public String name() {
                return "counting " + real.name();
            }
        };
        NexusConfig config = NexusConfig.parse("[server]\nbind = \"127.0.0.1:0\"\n[auth]\nrequired = false\n"
                + "[storage]\npath = \"" + dir.resolve("unused.db").toString().replace("\\", "/") + "\"\n");
        try (NexusServer server = NexusServer.builder(config).version("test").store(store).verifier(counting).clock(() -> THEN).build().start();
             RelayClient client = RelayClient.connect("ws://127.0.0.1:" + server.port())) {
            Event then = alice.sign(1, List.of(), "written in the relay's past", THEN);
            JsonNode ok = client.publishAndWait(then);
            assertTrue(ok.get(2).asBoolean(), ok.toString());
            assertEquals(1, verified.get(), "the given verifier checked the signature");
            JsonNode future = client.publishAndWait(alice.sign(1, "now is far ahead of the relay's clock"));
            assertFalse(future.get(2).asBoolean());
            assertEquals("invalid: created_at is too far in the future", future.get(3).asText());
            assertEquals(1, verified.get(), "a refused event never reaches the verifier");
            assertEquals(List.of(then.id()), store.query(new Filter(null, null, null, null, null, null, null), 10, THEN)
                    .stream().map(e -> e.id()).toList(), "the event is in the given store");
        }
        assertFalse(dir.resolve("unused.db").toFile().exists(), "no store was built from [storage]");
    }
}
