package dev.nexus.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.nexus.core.Event;
import dev.nexus.core.testing.NostrKey;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** NIP-11 over HTTP, keepalive, and what the relay does with clients that misbehave at the socket level. */
class ServingTest {
    @TempDir Path dir;

    @Test
    void badFramesOnFreshConnectionsAreOneSummaryLineNotOneLogLineEach() throws Exception {
        ch.qos.logback.classic.Logger root = (ch.qos.logback.classic.Logger) org.slf4j.LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
        ch.qos.logback.core.read.ListAppender<ch.qos.logback.classic.spi.ILoggingEvent> lines = new ch.qos.logback.core.read.ListAppender<>();
        lines.start();
        root.addAppender(lines);
        ch.qos.logback.classic.Logger relayLogs = (ch.qos.logback.classic.Logger) org.slf4j.LoggerFactory.getLogger("dev.nexus");
        ch.qos.logback.classic.Level testLevel = relayLogs.getLevel();
        relayLogs.setLevel(ch.qos.logback.classic.Level.INFO); // as operators run it (the tests' own config says WARN)
        try (TestRelay relay = TestRelay.start(dir, "")) {
            int bad = 50;
            lines.list.clear(); // the relay's own start
            for (int i = 0; i < bad; i++) {
                try (RawWebSocket ws = RawWebSocket.connect(relay.port())) {
                    ws.sendTextBytes(new byte[] {(byte) 0xc3, 0x28}); // not UTF-8
                    assertEquals(1007, ws.readUntilClose().closeCode());
                }
            }
            long deadline = System.currentTimeMillis() + 10_000;
            while (relay.server().connectionsClosed(ConnectionCloses.Reason.BAD_FRAME) < bad && System.currentTimeMillis() < deadline) Thread.sleep(20);
            assertEquals(bad, relay.server().connectionsClosed(ConnectionCloses.Reason.BAD_FRAME));
            java.util.function.Supplier<List<String>> aboutTheClient = () -> lines.list.stream()
                    .filter(e -> e.getLevel().isGreaterOrEqual(ch.qos.logback.classic.Level.INFO))
                    // The verify pool says its priority when its threads first run, which on a slow machine is after start returns.
                    .filter(e -> !e.getLoggerName().equals(TwoLaneExecutor.class.getName()))
                    .map(ch.qos.logback.classic.spi.ILoggingEvent::getFormattedMessage).toList();
            assertEquals(List.of(), aboutTheClient.get(), "no log line per connection a client spoils");
            relay.server().logRecentCloses(); // what the relay writes once a minute
            assertEquals(List.of("connections closed by the relay in the last minute: " + bad + " bad frame (127.0.0.1 " + bad + ")"), aboutTheClient.get());
        } finally {
            root.detachAppender(lines);
            relayLogs.setLevel(testLevel);
        }
    }

    @Test
    void nip11InfoIsServedOnTheSamePortWithCorsAndConfiguredLimits() throws Exception {
        try (TestRelay relay = TestRelay.start(dir, "[server]\nname = \"agents-relay\"\ncontact = \"mailto:ops@example.com\"\n[limits]\nmax_filters = 7\n")) {
            HttpResponse<String> res = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + relay.port() + "/"))
                    .header("Accept", "application/nostr+json").GET().build(), HttpResponse.BodyHandlers.ofString());
            assertEquals(200, res.statusCode());
            assertEquals("application/nostr+json", res.headers().firstValue("content-type").orElse(""));
            assertEquals("*", res.headers().firstValue("access-control-allow-origin").orElse(""));
            JsonNode info = RelayClient.JSON.readTree(res.body());
            assertEquals("agents-relay", info.get("name").asText());
            assertEquals("mailto:ops@example.com", info.get("contact").asText());
            assertTrue(info.get("supported_nips").toString().contains("11"));
            assertEquals(7, info.get("limitation").get("max_filters").asInt());
            assertEquals(524288, info.get("limitation").get("max_message_length").asInt());
            assertEquals(20, info.get("limitation").get("max_subscriptions").asInt());
            assertEquals(500, info.get("limitation").get("max_limit").asInt());
            assertEquals(64, info.get("limitation").get("max_subid_length").asInt());
            assertTrue(info.get("limitation").get("auth_required").asBoolean());
            assertEquals("[[5000,5999],68001]", info.get("retention").get(0).get("kinds").toString());
            assertEquals("[[6000,6999],68002]", info.get("retention").get(1).get("kinds").toString());
            assertEquals(86400, info.get("retention").get(0).get("time").asInt());
            assertEquals(604800, info.get("retention").get(1).get("time").asInt());

            HttpResponse<String> page = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + relay.port() + "/"))
                    .header("Accept", "text/html").GET().build(), HttpResponse.BodyHandlers.ofString());
            assertEquals(200, page.statusCode());
            assertTrue(page.headers().firstValue("content-type").orElse("").startsWith("text/html"));
            assertTrue(page.body().contains("agents-relay"));

            HttpResponse<String> preflight = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + relay.port() + "/"))
                    .method("OPTIONS", HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString());
            assertEquals(204, preflight.statusCode());
            assertEquals("*", preflight.headers().firstValue("access-control-allow-origin").orElse(""));
        }
    }

    @Test
    void idleClientsArePingedAndStayConnected() throws Exception {
        try (TestRelay relay = TestRelay.start(dir, "[server]\nping_interval_seconds = 1\nidle_timeout_seconds = 3\n[auth]\nrequired = false\n");
             RelayClient client = RelayClient.connect(relay)) {
            client.ping();
            Thread.sleep(4500);
            assertTrue(client.pings.get() >= 2, "pings received: " + client.pings.get());
            assertEquals(1, client.pongs.get(), "the relay answers a client's ping with a pong");
            assertTrue(client.publishAndWait(NostrKey.generate().sign(1, "still connected")).get(2).asBoolean());
        }
    }

    @Test
    void aConnectionThatStopsAnsweringIsReaped() throws Exception {
        try (TestRelay relay = TestRelay.start(dir, "[server]\nping_interval_seconds = 1\nidle_timeout_seconds = 2\n");
             Socket raw = rawWebSocket(relay.port())) {
            raw.setSoTimeout(8000);
            InputStream in = raw.getInputStream();
            long start = System.currentTimeMillis();
            byte[] buf = new byte[4096];
            // This client never answers pings: the relay must close the socket after the idle timeout.
            while (in.read(buf) >= 0) { }
            long elapsed = System.currentTimeMillis() - start;
            assertTrue(elapsed >= 1500 && elapsed < 8000, "closed after " + elapsed + " ms");
        }
    }

    @Test
    void aSubscriberThatOnlyListensButAnswersPingsIsNeverReapedWhileEventsStreamToIt() throws Exception {
        try (TestRelay relay = TestRelay.start(dir, "[server]\nping_interval_seconds = 1\nidle_timeout_seconds = 2\n[auth]\nrequired = false\n");
             RelayClient listener = RelayClient.connect(relay);
             RelayClient publisher = RelayClient.connect(relay)) {
            listener.query("feed", "{\"kinds\":[1]}");
            // From here on the listener sends no frame at all; only its WebSocket stack answers pings.
            NostrKey key = NostrKey.generate();
            List<String> sent = new ArrayList<>();
            long end = System.currentTimeMillis() + 7000; // three and a half idle timeouts
            while (System.currentTimeMillis() < end) {
                Event e = key.sign(1, List.of(), "tick " + sent.size());
                assertTrue(publisher.publishAndWait(e).get(2).asBoolean());
                sent.add(e.id());
                Thread.sleep(100);
            }
            List<String> received = new ArrayList<>();
            for (JsonNode e : listener.eventsFor("feed", sent.size(), 10000)) received.add(e.get("id").asText());
            assertEquals(sent, received, "the listener got every event, in order");
            assertTrue(listener.pings.get() >= 5, "the relay pinged the listener although it wrote to it all along: " + listener.pings.get());
            assertTrue(!listener.closed, "the listener is still connected");
            assertEquals(0, relay.server().connectionsClosed(ConnectionCloses.Reason.IDLE));
        }
    }

    @Test
    void aSubscriberThatStopsAnsweringPingsIsReapedEvenWhileEventsStreamToIt() throws Exception {
        try (TestRelay relay = TestRelay.start(dir, "[server]\nping_interval_seconds = 1\nidle_timeout_seconds = 2\n[auth]\nrequired = false\n");
             RelayClient publisher = RelayClient.connect(relay);
             Socket raw = rawWebSocket(relay.port())) {
            sendMaskedText(raw.getOutputStream(), "[\"REQ\",\"feed\",{\"kinds\":[1]}]");
            raw.setSoTimeout(200);
            InputStream in = raw.getInputStream();
            NostrKey key = NostrKey.generate();
            byte[] buf = new byte[65536];
            long start = System.currentTimeMillis();
            boolean reaped = false;
            // Keep the stream flowing to the silent peer; it reads (so it is no slow consumer) but never pongs.
            while (!reaped && System.currentTimeMillis() - start < 10000) {
                publisher.publishAndWait(key.sign(1, List.of(), "tick " + System.nanoTime()));
                try {
                    while (true) {
                        if (in.read(buf) < 0) {
                            reaped = true;
                            break;
                        }
                    }
                } catch (java.net.SocketTimeoutException drained) {
                    // nothing more to read right now
                }
            }
            long elapsed = System.currentTimeMillis() - start;
            assertTrue(reaped, "the silent peer was not reaped");
            assertTrue(elapsed >= 1500, "reaped after " + elapsed + " ms, before the idle timeout");
            long deadline = System.currentTimeMillis() + 2000;
            while (relay.server().connectionsClosed(ConnectionCloses.Reason.IDLE) == 0 && System.currentTimeMillis() < deadline) Thread.sleep(20);
            assertEquals(1, relay.server().connectionsClosed(ConnectionCloses.Reason.IDLE), "the close is counted as an idle reap");
        }
    }

    @Test
    void aSlowConsumerIsDisconnectedWhileOtherSubscribersGetEverything() throws Exception {
        try (TestRelay relay = TestRelay.start(dir, "[auth]\nrequired = false\n[limits]\nmax_outbound_bytes = 65536\n");
             RelayClient healthy = RelayClient.connect(relay);
             RelayClient publisher = RelayClient.connect(relay);
             Socket slow = new Socket()) {
            slow.setReceiveBufferSize(4096);
            slow.connect(new java.net.InetSocketAddress("127.0.0.1", relay.port()));
            handshake(slow);
            sendMaskedText(slow.getOutputStream(), "[\"REQ\",\"firehose\",{\"kinds\":[1]}]");
            healthy.query("all", "{\"kinds\":[1]}");
            Thread.sleep(200);
            NostrKey key = NostrKey.generate();
            String bulk = "x".repeat(8000);
            List<Event> sent = new ArrayList<>();
            for (int i = 0; i < 1500; i++) {
                Event e = key.sign(1, List.of(), bulk + i);
                sent.add(e);
                publisher.publish(e);
            }
            for (Event e : sent) assertTrue(publisher.ok(e.id()).get(2).asBoolean());
            assertEquals(1500, healthy.eventsFor("all", 1500, 30000).size());
            // The slow socket was cut off: draining it reaches end-of-stream well before 1500 x 8 KB.
            slow.setSoTimeout(10000);
            InputStream in = slow.getInputStream();
            byte[] buf = new byte[65536];
            long total = 0;
            int n;
            while ((n = in.read(buf)) >= 0) total += n;
            assertTrue(total < 1500L * 8000, "slow consumer received " + total + " bytes before the relay closed it");
        }
    }

    @Test
    void tooManyConnectionsFromOneAddressAreRefused() throws Exception {
        try (TestRelay relay = TestRelay.start(dir, "[auth]\nrequired = false\n[rate_limits]\nmax_connections_per_ip = 2\nexempt_ips = []\n");
             RelayClient one = RelayClient.connect(relay);
             RelayClient two = RelayClient.connect(relay)) {
            try (Socket third = new Socket("127.0.0.1", relay.port())) {
                String status = handshake(third);
                assertTrue(status.contains("429"), status);
            }
            two.close();
            Thread.sleep(200);
            try (RelayClient again = RelayClient.connect(relay)) {
                assertTrue(again.publishAndWait(NostrKey.generate().sign(1, "room again")).get(2).asBoolean());
            }
        }
    }

    @Test
    void behindAProxyPerIpLimitsCountTheAddressInTheRealIpHeader() throws Exception {
        try (TestRelay relay = TestRelay.start(dir, "[server]\nreal_ip_header = \"X-Forwarded-For\"\n"
                + "[auth]\nrequired = false\n[rate_limits]\nmax_connections_per_ip = 1\nexempt_ips = []\n");
             Socket alice = new Socket("127.0.0.1", relay.port());
             Socket bob = new Socket("127.0.0.1", relay.port());
             Socket aliceAgain = new Socket("127.0.0.1", relay.port())) {
            // All three come from the proxy's address (loopback); the header tells them apart.
            String first = handshake(alice, "X-Forwarded-For: 198.51.100.9, 203.0.113.1\r\n");
            assertTrue(first.contains("101"), first);
            String second = handshake(bob, "X-Forwarded-For: 203.0.113.2\r\n");
            assertTrue(second.contains("101"), "another client behind the same proxy gets in: " + second);
            String third = handshake(aliceAgain, "X-Forwarded-For: 203.0.113.1\r\n");
            assertTrue(third.contains("429"), "the same client again is over its limit: " + third);
        }
    }

    @Test
    void anAddressThatConnectsTooOftenIsClosedOnAcceptUntilItsBudgetRefills() throws Exception {
        try (TestRelay relay = TestRelay.start(dir, "[auth]\nrequired = false\n[rate_limits]\nconnections_per_second = 2.0\nconnections_burst = 3\nexempt_ips = []\n")) {
            HttpResponse<String> info = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + relay.port() + "/"))
                    .header("Accept", "application/nostr+json").GET().build(), HttpResponse.BodyHandlers.ofString());
            assertEquals(200, info.statusCode(), "a NIP-11 request is a connection too: the first of the burst");
            JsonNode limitation = RelayClient.JSON.readTree(info.body()).get("limitation");
            assertEquals(2.0, limitation.get("connections_per_second").asDouble());
            assertEquals(3, limitation.get("connections_burst").asInt());
            for (int i = 0; i < 2; i++) {
                try (Socket s = new Socket("127.0.0.1", relay.port())) {
                    assertTrue(handshake(s).contains("101"), "connection " + (i + 2) + " of the burst gets in");
                }
            }
            try (Socket s = new Socket("127.0.0.1", relay.port())) {
                String answer;
                try {
                    answer = handshake(s);
                } catch (java.net.SocketException reset) { // closed with our request unread: a reset
                    answer = "";
                }
                assertEquals("", answer, "the fourth at once is closed before the relay reads a byte of it");
            }
            Thread.sleep(1100); // two tokens back at 2 per second: one for the scrape, one for a WebSocket
            String metrics = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + relay.port() + "/metrics"))
                    .GET().build(), HttpResponse.BodyHandlers.ofString()).body();
            assertTrue(metrics.contains("nexus_connections_refused_total{limit=\"connections_per_second\"} 1.0"), "counted by its limit");
            try (Socket s = new Socket("127.0.0.1", relay.port())) {
                assertTrue(handshake(s).contains("101"), "after the refill the address gets in again");
            }
        }
    }

    @Test
    void behindAProxyEachClientsConnectionRateIsItsOwnAndOverItTheUpgradeGets429() throws Exception {
        try (TestRelay relay = TestRelay.start(dir, "[server]\nreal_ip_header = \"X-Forwarded-For\"\n[auth]\nrequired = false\n"
                + "[rate_limits]\nconnections_per_second = 1.0\nconnections_burst = 2\nexempt_ips = []\n")) { // the proxy (loopback) not exempt: its own address is never counted
            for (int i = 0; i < 2; i++) {
                try (Socket s = new Socket("127.0.0.1", relay.port())) {
                    assertTrue(handshake(s, "X-Forwarded-For: 203.0.113.1\r\n").contains("101"));
                }
            }
            try (Socket s = new Socket("127.0.0.1", relay.port())) {
                assertTrue(handshake(s, "X-Forwarded-For: 203.0.113.1\r\n").contains("429"), "the same client a third time at once");
            }
            try (Socket s = new Socket("127.0.0.1", relay.port())) {
                assertTrue(handshake(s, "X-Forwarded-For: 203.0.113.2\r\n").contains("101"), "another client behind the proxy has its own budget");
            }
            Thread.sleep(1100); // one token back at 1 per second
            try (Socket s = new Socket("127.0.0.1", relay.port())) {
                assertTrue(handshake(s, "X-Forwarded-For: 203.0.113.1\r\n").contains("101"), "after the refill the client gets in again");
            }
        }
    }

    private static Socket rawWebSocket(int port) throws Exception {
        Socket s = new Socket("127.0.0.1", port);
        String status = handshake(s);
        assertTrue(status.contains("101"), status);
        return s;
    }

    /** Performs the HTTP upgrade by hand and returns the status line. */
    private static String handshake(Socket s) throws Exception {
        return handshake(s, "");
    }

    private static String handshake(Socket s, String extraHeaders) throws Exception {
        OutputStream out = s.getOutputStream();
        out.write(("GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" + extraHeaders
                + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
        out.flush();
        InputStream in = s.getInputStream();
        StringBuilder head = new StringBuilder();
        while (!head.toString().endsWith("\r\n\r\n")) {
            int b = in.read();
            if (b < 0) break;
            head.append((char) b);
        }
        return head.toString().lines().findFirst().orElse("");
    }

    private static void sendMaskedText(OutputStream out, String text) throws Exception {
        byte[] payload = text.getBytes(StandardCharsets.UTF_8);
        byte[] mask = {1, 2, 3, 4};
        out.write(0x81);
        out.write(0x80 | payload.length);
        out.write(mask);
        for (int i = 0; i < payload.length; i++) out.write(payload[i] ^ mask[i % 4]);
        out.flush();
    }
}
