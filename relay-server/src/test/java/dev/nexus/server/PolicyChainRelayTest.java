package dev.nexus.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.nexus.core.Event;
import dev.nexus.core.testing.NostrKey;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The policy chain and the live feed through the real relay: a rule added by one key, and fan-out on its own thread. */
class PolicyChainRelayTest {
    @TempDir Path dir;
    private final NostrKey alice = NostrKey.generate();

    @Test
    void allowedKindsRefusesOtherKindsAsBlockedAndIsAdvertisedInNip11() throws Exception {
        try (TestRelay relay = TestRelay.start(dir, "[auth]\nrequired = false\n[limits]\nallowed_kinds = [1, \"5000-5999\"]\n");
             RelayClient client = RelayClient.connect(relay)) {
            JsonNode refused = client.publishAndWait(alice.sign(30023, List.of(List.of("d", "x")), "article"));
            assertFalse(refused.get(2).asBoolean(), refused.toString());
            assertEquals("blocked: this relay does not accept kind 30023 events", refused.get(3).asText());
            assertTrue(client.publishAndWait(alice.sign(1, "note")).get(2).asBoolean());
            assertTrue(client.publishAndWait(alice.sign(5100, "job")).get(2).asBoolean());

            HttpResponse<String> res = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + relay.port() + "/"))
                    .header("Accept", "application/nostr+json").GET().build(), HttpResponse.BodyHandlers.ofString());
            JsonNode limitation = RelayClient.JSON.readTree(res.body()).get("limitation");
            assertEquals("[1,[5000,5999]]", limitation.get("allowed_kinds").toString());
            assertTrue(limitation.get("restricted_writes").asBoolean());
        }
    }

    @Test
    void liveEventsAreFannedOutByTheFanOutThreadWhichStopsWithTheRelay() throws Exception {
        Set<Thread> before = fanOutThreads();
        Set<Thread> ours;
        try (TestRelay relay = TestRelay.start(dir, "[auth]\nrequired = false\n")) {
            ours = fanOutThreads();
            ours.removeAll(before);
            assertEquals(1, ours.size(), "the relay runs one nexus-fanout thread");
            try (RelayClient subscriber = RelayClient.connect(relay); RelayClient publisher = RelayClient.connect(relay)) {
                subscriber.query("live", "{\"authors\":[\"" + alice.pubkey() + "\"]}");
                Event stored = alice.sign(1, "stored");
                Event ephemeral = alice.sign(20001, "ephemeral");
                assertTrue(publisher.publishAndWait(stored).get(2).asBoolean());
                assertTrue(publisher.publishAndWait(ephemeral).get(2).asBoolean());
                List<JsonNode> got = subscriber.eventsFor("live", 2, 5000);
                assertEquals(List.of(stored.id(), ephemeral.id()), got.stream().map(n -> n.get("id").asText()).toList());
            }
        }
        long deadline = System.currentTimeMillis() + 5000;
        while (ours.stream().anyMatch(Thread::isAlive) && System.currentTimeMillis() < deadline) Thread.sleep(20);
        assertFalse(ours.stream().anyMatch(Thread::isAlive), "closing the relay stops fan-out");
    }

    private static Set<Thread> fanOutThreads() {
        Set<Thread> found = new HashSet<>();
        for (Thread t : Thread.getAllStackTraces().keySet()) if (t.getName().equals("nexus-fanout") && t.isAlive()) found.add(t);
        return found;
    }
}
