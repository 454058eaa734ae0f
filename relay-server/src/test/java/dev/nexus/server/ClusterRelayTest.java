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

    @BeforeAll
    static void startPostgres() throws Exception {
        postgres = EmbeddedPostgres.builder().start();
    }

    @AfterAll
    static void stopPostgres() throws Exception {
        postgres.close();
    }

    @BeforeEach
    void startNodes() throws Exception {
        String db = "cluster_" + (++databases);
        try (Connection c = DriverManager.getConnection(postgres.getJdbcUrl("postgres", "postgres")); Statement s = c.createStatement()) {
            s.execute("CREATE DATABASE " + db);
        }
        String toml = "[auth]\nrequired = false\n[storage]\nbackend = \"postgres\"\npostgres_url = \"postgresql://127.0.0.1:"
                + postgres.getPort() + "/" + db + "?user=postgres\"\n";
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
        assertAccepted(onA.publishAndWait(alice.sign(5, List.of(List.of("e", job.id())), "cancel", NOW)));
        assertEquals(List.of(), onB.queryIds("gone", "{\"ids\":[\"" + job.id() + "\"]}"));
        JsonNode again = onB.publishAndWait(job);
        assertTrue(again.get(3).asText().startsWith("blocked:"), again.toString());

        onB.query("rpc", "{\"kinds\":[25910]}");
        Event request = alice.sign(25910, List.of(), "{\"method\":\"tools/list\"}", NOW);
        assertAccepted(onA.publishAndWait(request));
        assertEquals(List.of(request.id()), onB.eventsFor("rpc", 1, 15000).stream().map(n -> n.get("id").asText()).toList());
        assertEquals(List.of(), onA.queryIds("stored?", "{\"kinds\":[25910]}"), "ephemeral events are not stored");
    }
}
