package dev.nexus.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.nexus.config.NexusConfig;
import dev.nexus.core.testing.NostrKey;
import io.netty.channel.embedded.EmbeddedChannel;
import java.io.InputStream;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Relay-wide bounds: connections, sockets still in HTTP, slowloris requests, subscriptions, queues. */
class GlobalBoundsTest {
    @TempDir Path dir;

    /** True when the relay closed the socket (end of stream or reset) before the read timed out. */
    private static boolean closedByRelay(Socket s) throws Exception {
        s.setSoTimeout(10000);
        InputStream in = s.getInputStream();
        try {
            while (in.read() >= 0) {
                // whatever the relay sent before closing
            }
            return true;
        } catch (SocketTimeoutException e) {
            return false;
        } catch (java.io.IOException reset) {
            return true;
        }
    }

    @Test
    void pastMaxConnectionsANewSocketIsClosedOnAccept() throws Exception {
        try (TestRelay relay = TestRelay.start(dir, "[server]\nmax_connections = 2\n[auth]\nrequired = false\n");
             RelayClient one = RelayClient.connect(relay);
             RelayClient two = RelayClient.connect(relay);
             Socket third = new Socket("127.0.0.1", relay.port())) {
            assertTrue(closedByRelay(third), "a third connection must be refused");
            assertTrue(one.publishAndWait(NostrKey.generate().sign(1, "still served")).get(2).asBoolean());
        }
    }

    @Test
    void pastMaxPreUpgradeConnectionsSilentSocketsCannotCrowdOutAgents() throws Exception {
        try (TestRelay relay = TestRelay.start(dir, "[server]\nmax_pre_upgrade_connections = 2\n[auth]\nrequired = false\n");
             Socket a = new Socket("127.0.0.1", relay.port());
             Socket b = new Socket("127.0.0.1", relay.port())) {
            // Let the relay register both before the third arrives: the event loops may count sockets in any order.
            Thread.sleep(500);
            try (Socket c = new Socket("127.0.0.1", relay.port())) {
                assertTrue(closedByRelay(c), "a third socket that has not upgraded must be refused");
            }
            a.close();
            b.close();
            // The slots are released when the relay sees the closes; an agent gets in once they are.
            long deadline = System.currentTimeMillis() + 10_000;
            while (true) {
                try (RelayClient agent = RelayClient.connect(relay)) {
                    assertTrue(agent.publishAndWait(NostrKey.generate().sign(1, "room again")).get(2).asBoolean());
                    break;
                } catch (Exception refusedStill) {
                    if (System.currentTimeMillis() > deadline) throw refusedStill;
                    Thread.sleep(100);
                }
            }
        }
    }

    @Test
    void aSlowlorisRequestIsClosedAfterTheHttpRequestTimeoutButUpgradedConnectionsStay() throws Exception {
        try (TestRelay relay = TestRelay.start(dir, "[server]\nhttp_request_timeout_seconds = 1\n[auth]\nrequired = false\n");
             RelayClient agent = RelayClient.connect(relay);
             Socket slow = new Socket("127.0.0.1", relay.port())) {
            slow.getOutputStream().write("GET / HTTP/1.1\r\nHo".getBytes(StandardCharsets.US_ASCII));
            assertTrue(closedByRelay(slow), "a request that never completes is closed");
            assertTrue(agent.publishAndWait(NostrKey.generate().sign(1, "upgraded connections have no deadline")).get(2).asBoolean());
        }
    }

    @Test
    void subscriptionsHeldRelayWideAreBounded() throws Exception {
        try (TestRelay relay = TestRelay.start(dir, "[auth]\nrequired = false\n[limits]\nmax_total_subscriptions = 3\n");
             RelayClient a = RelayClient.connect(relay);
             RelayClient b = RelayClient.connect(relay)) {
            assertEquals(List.of(), a.query("a1", "{\"kinds\":[1]}"));
            assertEquals(List.of(), a.query("a2", "{\"kinds\":[1]}"));
            b.req("b1", "{\"kinds\":[1]}");
            b.expect("EOSE", 5000);
            b.req("b2", "{\"kinds\":[1]}");
            JsonNode closed = b.expect("CLOSED", 5000);
            assertTrue(closed.get(2).asText().startsWith("rate-limited:"), closed.toString());
            a.send("[\"CLOSE\",\"a2\"]");
            Thread.sleep(200);
            b.req("b3", "{\"kinds\":[1]}");
            assertEquals("b3", b.expect("EOSE", 5000).get(1).asText());
        }
    }

    @Test
    void aFullQueueStopsReadingFromClientsThatFeedItUntilItIsHalfEmpty() {
        EmbeddedChannel feeder = new EmbeddedChannel();
        QueueBound bound = new QueueBound(4);
        for (int i = 0; i < 4; i++) bound.enter(feeder);
        assertTrue(feeder.config().isAutoRead());
        bound.enter(feeder);
        assertFalse(feeder.config().isAutoRead(), "past the bound the feeding client is not read");
        bound.exit();
        bound.exit();
        assertFalse(feeder.config().isAutoRead());
        bound.exit();
        assertTrue(feeder.config().isAutoRead(), "read again once the backlog is down to half");
    }

    @Test
    void theBoundsAreAdvertisedInNip11() throws Exception {
        String info = RelayInfo.render(NexusConfig.parse("[server]\nmax_connections = 77\n[limits]\nmax_total_subscriptions = 88\n"), "t");
        JsonNode limitation = RelayClient.JSON.readTree(info).get("limitation");
        assertEquals(77, limitation.get("max_connections").asInt());
        assertEquals(88, limitation.get("max_total_subscriptions").asInt());
        assertTrue(limitation.has("max_pre_upgrade_connections") && limitation.has("max_events_in_flight"), info);
    }
}
