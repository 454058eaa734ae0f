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
import dev.nexus.server.policy.EventPolicy;
import dev.nexus.server.policy.Policies;
import dev.nexus.server.policy.ReadPolicy;
import dev.nexus.server.policy.Refusal;
import dev.nexus.storage.RetentionPolicy;
import dev.nexus.storage.SqliteEventStore;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The relay built with given parts: a store opened by the test, a verifier that counts, a clock set in the past, policies, a meter registry. */
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

    private NexusConfig config() throws Exception {
        return NexusConfig.parse("[server]\nbind = \"127.0.0.1:0\"\n[auth]\nrequired = false\n"
                + "[storage]\npath = \"" + dir.resolve("relay.db").toString().replace("\\", "/") + "\"\n");
    }

    @Test
    void givenPoliciesDecideOverARealSocketAndTheConfigRulesStillApply() throws Exception {
        EventPolicy noLongNotes = (e, c) -> e.content().length() > 10 ? Optional.of(Refusal.blocked("notes here are short")) : Optional.empty();
        ReadPolicy noKind4 = (verb, filters, c) -> filters.stream().anyMatch(f -> f.kinds() != null && f.kinds().contains(4))
                ? Optional.of(Refusal.restricted(verb + " of kind 4 is not served here")) : Optional.empty();
        try (NexusServer server = NexusServer.builder(config())
                .policies(fromConfig -> {
                    List<EventPolicy> events = new ArrayList<>(List.of(noLongNotes));
                    events.addAll(fromConfig.eventPolicies());
                    List<ReadPolicy> reads = new ArrayList<>(List.of(noKind4));
                    reads.addAll(fromConfig.readPolicies());
                    return new Policies(events, reads);
                }).build().start();
             RelayClient client = RelayClient.connect("ws://127.0.0.1:" + server.port())) {
            JsonNode refused = client.publishAndWait(alice.sign(1, "this note is far too long"));
            assertFalse(refused.get(2).asBoolean());
            assertEquals("blocked: notes here are short", refused.get(3).asText());
            assertTrue(client.publishAndWait(alice.sign(1, "short")).get(2).asBoolean(), "the given rule lets short notes through");
            JsonNode future = client.publishAndWait(alice.sign(1, List.of(), "later", System.currentTimeMillis() / 1000 + 100_000));
            assertEquals("invalid: created_at is too far in the future", future.get(3).asText(), "the config's rules follow the given one");
            client.req("dms", "{\"kinds\":[4]}");
            JsonNode closed = client.expect("CLOSED", 5000);
            assertEquals("dms", closed.get(1).asText());
            assertEquals("restricted: REQ of kind 4 is not served here", closed.get(2).asText());
            assertEquals(1, client.queryIds("notes", "{\"kinds\":[1]}").size(), "other reads still run");
        }
    }

    @Test
    void aGivenRegistrySeesTheRelaysCountersAndMetricsAreStillServed() throws Exception {
        SimpleMeterRegistry given = new SimpleMeterRegistry();
        try (NexusServer server = NexusServer.builder(config()).meterRegistry(given).build().start();
             RelayClient client = RelayClient.connect("ws://127.0.0.1:" + server.port())) {
            assertTrue(client.publishAndWait(alice.sign(1, "counted")).get(2).asBoolean());
            assertFalse(client.publishAndWait(alice.sign(1, List.of(), "x", System.currentTimeMillis() / 1000 + 100_000)).get(2).asBoolean());
            // The OK can reach the client a moment before its counter is bumped: read the counters once they settle.
            assertEquals(1.0, eventually(() -> count(given.find("nexus.events").tag("kind_class", "regular").tag("outcome", "stored").counter()), 1.0),
                    "the given registry counted the stored EVENT");
            assertEquals(1.0, eventually(() -> count(given.find("nexus.events").tag("outcome", "invalid").counter()), 1.0));
            assertEquals(2.0, eventually(() -> count(given.find("nexus.messages.in").tag("verb", "EVENT").counter()), 2.0));
            assertTrue(given.get("nexus.connections.opened").counter().count() >= 1);
            assertTrue(server.metrics().scrapeText().contains("nexus_events_total{kind_class=\"regular\",outcome=\"stored\"} 1.0"),
                    "GET /metrics still serves the relay's own Prometheus registry");
        }
    }

    @Test
    void aGivenPrometheusRegistryIsTheOneMetricsServes() throws Exception {
        PrometheusMeterRegistry given = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        try (NexusServer server = NexusServer.builder(config()).meterRegistry(given).build().start();
             RelayClient client = RelayClient.connect("ws://127.0.0.1:" + server.port())) {
            assertTrue(client.publishAndWait(alice.sign(1, "counted")).get(2).asBoolean());
            assertEquals(1.0, eventually(() -> count(given.find("nexus.events").tag("outcome", "stored").counter()), 1.0));
            assertTrue(given.scrape().contains("nexus_events_total{kind_class=\"regular\",outcome=\"stored\"} 1.0"), given.scrape());
        }
    }

    private static double count(Counter c) {
        return c == null ? 0 : c.count();
    }

    /** The value once it reaches {@code expected}, or what it is after 5 seconds. */
    private static double eventually(java.util.function.DoubleSupplier value, double expected) throws InterruptedException {
        long deadline = System.currentTimeMillis() + 5000;
        double v;
        while ((v = value.getAsDouble()) != expected && System.currentTimeMillis() < deadline) Thread.sleep(10);
        return v;
    }
}
