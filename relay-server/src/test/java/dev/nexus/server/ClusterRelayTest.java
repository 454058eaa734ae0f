package dev.nexus.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.nexus.core.Event;
import dev.nexus.core.testing.NostrKey;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Two Nexus nodes on one PostgreSQL behave as one relay, whichever node a client is connected to. */
class ClusterRelayTest {
    private static final long NOW = System.currentTimeMillis() / 1000;
    private static EmbeddedPostgres postgres;
    private static int databases;
    @TempDir Path dirA;
    @TempDir Path dirB;
    private TestRelay nodeA, nodeB;
    private RelayClient onA, onB;
    private final NostrKey alice = NostrKey.generate();
    private final NostrKey operator = NostrKey.generate();

    @BeforeAll
    static void startPostgres() throws Exception {
        postgres = EmbeddedPostgres.builder().start();
    }

    @AfterAll
    static void stopPostgres() throws Exception {
        postgres.close();
    }

    private String toml;

    @BeforeEach
    void startNodes() throws Exception {
        String db = "cluster_" + (++databases);
        try (Connection c = DriverManager.getConnection(postgres.getJdbcUrl("postgres", "postgres")); Statement s = c.createStatement()) {
            s.execute("CREATE DATABASE " + db);
        }
        toml = "[auth]\nrequired = false\n[storage]\nbackend = \"postgres\"\npostgres_url = \"postgresql://127.0.0.1:"
                + postgres.getPort() + "/" + db + "?user=postgres\"\n[management]\nadmin_pubkeys = [\"" + operator.pubkey() + "\"]\n";
        nodeA = TestRelay.start(dirA, toml);
        nodeB = TestRelay.start(dirB, toml);
        onA = RelayClient.connect(nodeA);
        onB = RelayClient.connect(nodeB);
    }

    @AfterEach
    void stopNodes() {
        onA.close();
        onB.close();
        nodeA.close();
        nodeB.close();
    }

    private static void assertAccepted(JsonNode ok) {
        assertEquals(true, ok.get(2).asBoolean(), ok.toString());
    }

    @Test
    void aSubscriberOnOneNodeReceivesWhatIsPublishedOnTheOtherAndBack() throws Exception {
        onB.query("jobs", "{\"kinds\":[5050]}");
        onA.query("feedback", "{\"kinds\":[7000]}");
        Event job = alice.sign(5050, List.of(), "{\"prompt\":\"hi\"}", NOW);
        assertAccepted(onA.publishAndWait(job));
        List<JsonNode> onBLive = onB.eventsFor("jobs", 1, 15000);
        assertEquals(List.of(job.id()), onBLive.stream().map(n -> n.get("id").asText()).toList());
        Event feedback = NostrKey.generate().sign(7000, List.of(List.of("e", job.id()), List.of("status", "processing")), "", NOW);
        assertAccepted(onB.publishAndWait(feedback));
        assertEquals(List.of(feedback.id()), onA.eventsFor("feedback", 1, 15000).stream().map(n -> n.get("id").asText()).toList());
        assertTrue(onB.eventsFor("jobs", 1, 500).isEmpty(), "delivered once");
    }

    @Test
    void aNodeKilledWithSigkillWhilePublishingLosesNothingItAcknowledgedAndTheOtherNodeKeepsServing() throws Exception {
        int port;
        try (java.net.ServerSocket socket = new java.net.ServerSocket(0)) {
            port = socket.getLocalPort();
        }
        Path config = dirA.resolve("node-c.toml");
        java.nio.file.Files.writeString(config, "[server]\nbind = \"127.0.0.1:" + port + "\"\n" + toml);
        Process nodeC = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp", System.getProperty("java.class.path"), Main.class.getName(), "--no-relaunch", "--config", config.toString())
                .redirectErrorStream(true).redirectOutput(dirA.resolve("node-c.log").toFile()).start();
        List<String> acknowledged = new java.util.ArrayList<>();
        onB.query("live", "{\"authors\":[\"" + alice.pubkey() + "\"]}");
        try (RelayClient onC = DurabilityTest.connectWhenUp(port)) {
            List<Event> sent = new java.util.ArrayList<>();
            for (int i = 0; i < 300; i++) {
                Event e = alice.sign(i % 2 == 0 ? 1 : 5050, List.of(), "event " + i, NOW);
                sent.add(e);
                onC.publish(e);
            }
            for (Event e : sent.subList(0, 200)) {
                if (onC.ok(e.id()).get(2).asBoolean()) acknowledged.add(e.id());
            }
        } finally {
            nodeC.destroyForcibly(); // SIGKILL, while later events may still be in flight
            assertTrue(nodeC.waitFor(10, java.util.concurrent.TimeUnit.SECONDS));
        }
        assertEquals(200, acknowledged.size());
        java.util.Set<String> stored = new java.util.HashSet<>(onB.queryIds("all", "{\"authors\":[\"" + alice.pubkey() + "\"],\"limit\":500}"));
        for (String id : acknowledged) assertTrue(stored.contains(id), "acknowledged event " + id + " was lost");
        java.util.Set<String> live = new java.util.HashSet<>();
        for (JsonNode n : onB.eventsFor("live", stored.size(), 30000)) live.add(n.get("id").asText());
        assertEquals(stored, live, "node B's live subscriber got every event node C committed");
        Event after = alice.sign(1, List.of(), "node B still serves", NOW);
        assertAccepted(onB.publishAndWait(after));
    }

    @Test
    void theSameReqReturnsTheSameIdsInTheSameOrderOnEveryNode() throws Exception {
        for (int i = 0; i < 10; i++) {
            assertAccepted((i % 2 == 0 ? onA : onB).publishAndWait(alice.sign(1, List.of(), "note " + i, NOW - (i % 3))));
        }
        String f = "{\"authors\":[\"" + alice.pubkey() + "\"]}";
        List<String> fromA = onA.queryIds("a", f);
        assertEquals(10, fromA.size());
        assertEquals(fromA, onB.queryIds("b", f));
    }

    @Test
    void aDeletionOnOneNodeIsSeenOnTheOtherAndEphemeralEventsCrossNodes() throws Exception {
        Event job = alice.sign(5050, List.of(), "job", NOW - 5);
        assertAccepted(onB.publishAndWait(job));
        onB.query("deletions", "{\"kinds\":[5]}");
        Event deletion = alice.sign(5, List.of(List.of("e", job.id())), "cancel", NOW);
        assertAccepted(onA.publishAndWait(deletion));
        // Node B learns of the deletion from its feed, milliseconds later; until then its cache of ids it
        // stored may still answer a re-publication with "duplicate:" (nothing is stored either way).
        assertEquals(List.of(deletion.id()), onB.eventsFor("deletions", 1, 15000).stream().map(n -> n.get("id").asText()).toList());
        assertEquals(List.of(), onB.queryIds("gone", "{\"ids\":[\"" + job.id() + "\"]}"));
        JsonNode again = onB.publishAndWait(job);
        assertTrue(again.get(3).asText().startsWith("blocked:"), again.toString());

        onB.query("rpc", "{\"kinds\":[25910]}");
        Event request = alice.sign(25910, List.of(), "{\"method\":\"tools/list\"}", NOW);
        assertAccepted(onA.publishAndWait(request));
        assertEquals(List.of(request.id()), onB.eventsFor("rpc", 1, 15000).stream().map(n -> n.get("id").asText()).toList());
        assertEquals(List.of(), onA.queryIds("stored?", "{\"kinds\":[25910]}"), "ephemeral events are not stored");
    }
    @Test
    void aBanOrANameGivenThroughNip86OnOneNodeHoldsOnTheOtherWithinSeconds() throws Exception {
        NostrKey mallory = NostrKey.generate();
        assertAccepted(onB.publishAndWait(mallory.sign(1, List.of(), "before the ban", NOW)));
        Event spam = alice.sign(1, List.of(), "spam", NOW);
        assertAccepted(onA.publishAndWait(spam));

        // A banned event is refused by the other node's store at once: its writer reads the shared table
        // (node B never saw this event, so no cache of its own answers for it).
        Nip86ManagementRelayTest.call(nodeA, operator, "{\"method\":\"banevent\",\"params\":[\"" + spam.id() + "\",\"spam\"]}");
        JsonNode again = onB.publishAndWait(spam);
        assertEquals(false, again.get(2).asBoolean(), again.toString());
        assertTrue(again.get(3).asText().startsWith("blocked:"), again.toString());
        assertEquals(List.of(), onB.queryIds("banned", "{\"ids\":[\"" + spam.id() + "\"]}"));

        Nip86ManagementRelayTest.call(nodeA, operator, "{\"method\":\"banpubkey\",\"params\":[\"" + mallory.pubkey() + "\",\"spam\"]}");
        Nip86ManagementRelayTest.call(nodeA, operator, "{\"method\":\"changerelayname\",\"params\":[\"one relay\"]}");
        long deadline = System.currentTimeMillis() + 3 * NexusServer.MODERATION_REFRESH_SECONDS * 1000L + 5000;
        JsonNode refused = waitForOk(onB, () -> mallory.sign(1, List.of(), "after the ban " + System.nanoTime(), NOW), false, deadline);
        assertTrue(refused.get(3).asText().startsWith("blocked:"), refused.toString());
        assertEquals(List.of(), onB.queryIds("hidden", "{\"authors\":[\"" + mallory.pubkey() + "\"]}"), "what the banned key stored is hidden on node B too");
        while (!"one relay".equals(Nip86ManagementRelayTest.nip11(nodeB).path("name").asText()) && System.currentTimeMillis() < deadline) Thread.sleep(100);
        assertEquals("one relay", Nip86ManagementRelayTest.nip11(nodeB).path("name").asText(), "node B's NIP-11 shows the name given on node A");

        Nip86ManagementRelayTest.call(nodeA, operator, "{\"method\":\"unbanpubkey\",\"params\":[\"" + mallory.pubkey() + "\"]}");
        deadline = System.currentTimeMillis() + 3 * NexusServer.MODERATION_REFRESH_SECONDS * 1000L + 5000;
        assertAccepted(waitForOk(onB, () -> mallory.sign(1, List.of(), "after the unban " + System.nanoTime(), NOW), true, deadline));
    }

    /** Publishes a fresh event from {@code next} until the OK says {@code accepted} or the deadline passes; returns the last OK. */
    private static JsonNode waitForOk(RelayClient client, java.util.function.Supplier<Event> next, boolean accepted, long deadline) throws Exception {
        JsonNode ok = client.publishAndWait(next.get());
        while (ok.get(2).asBoolean() != accepted && System.currentTimeMillis() < deadline) {
            Thread.sleep(200);
            ok = client.publishAndWait(next.get());
        }
        assertEquals(accepted, ok.get(2).asBoolean(), ok.toString());
        return ok;
    }
}
