package dev.nexus.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.nexus.core.Event;
import dev.nexus.core.testing.NostrKey;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * SIGTERM under load: the relay stops accepting, answers every EVENT it read with an OK sent after
 * commit, sends subscribers a close frame and exits 0; every acknowledged event is there after restart,
 * and every stored event of the load was acknowledged.
 */
class SigtermTest {
    @TempDir Path dir;

    @Test
    void sigtermUnderLoadAnswersEveryReadEventClosesSubscribersAndExitsZero() throws Exception {
        int port;
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort();
        }
        Path config = dir.resolve("nexus.toml");
        Files.writeString(config, "[server]\nbind = \"127.0.0.1:" + port + "\"\n[storage]\npath = \"" + dir.resolve("nexus.db").toString().replace("\\", "/")
                + "\"\n[auth]\nrequired = false\n[rate_limits]\nevents_per_second = 0\n");
        Process relay = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp", System.getProperty("java.class.path"), Main.class.getName(), "--no-relaunch", "--config", config.toString())
                .redirectErrorStream(true).redirectOutput(dir.resolve("relay.log").toFile()).start();
        Set<String> acknowledged = new HashSet<>();
        Map<String, String> refusals = new HashMap<>(); // OK false messages, to explain a failure
        List<Event> sent = new ArrayList<>();
        RelayClient subscriber;
        try {
            RelayClient publisher = connectWhenUp(port);
            subscriber = RelayClient.connect("ws://127.0.0.1:" + port);
            subscriber.req("live", "{\"kinds\":[1]}");
            subscriber.expect("EOSE", 5000);
            NostrKey key = NostrKey.generate();
            for (int i = 0; i < 3000; i++) sent.add(key.sign(1, List.of(), "load " + i));
            for (int i = 0; i < 1500; i++) publisher.publish(sent.get(i));
            assertTrue(publisher.ok(sent.get(0).id()).get(2).asBoolean(), "the load is being stored");
            acknowledged.add(sent.get(0).id());
            relay.destroy(); // SIGTERM, while many of the events are still in flight
            for (int i = 1500; i < sent.size(); i++) {
                try {
                    publisher.publish(sent.get(i));
                } catch (Exception closed) {
                    break;
                }
            }
            assertTrue(relay.waitFor(30, TimeUnit.SECONDS), "the relay exits within seconds");
            assertEquals(0, relay.exitValue(), "SIGTERM is a clean stop");
            JsonNode ok;
            while ((ok = publisher.next(m -> m.get(0).asText().equals("OK"), 1000)) != null) {
                if (ok.get(2).asBoolean()) acknowledged.add(ok.get(1).asText());
                else refusals.put(ok.get(1).asText(), ok.get(3).asText());
            }
            assertTrue(subscriber.closed, "subscribers get a close frame");
        } finally {
            relay.destroyForcibly();
        }
        assertStoredAreExactlyTheAcknowledged(acknowledged, refusals);
    }

    /**
     * A client that is slow to read while the relay stops, and still sending: closing a socket with
     * its bytes unread makes the kernel reset the connection and throw away what the client had not
     * read yet (the OKs, the close frame), so the relay must drain it and wait for its close frame.
     */
    @Test
    void aClientReadingSlowlyWhileTheRelayStopsStillGetsTheOkOfEveryStoredEventAndTheCloseFrame() throws Exception {
        TestRelay relay = TestRelay.start(dir, "[auth]\nrequired = false\n[rate_limits]\nevents_per_second = 0\n");
        NostrKey key = NostrKey.generate();
        List<Event> load = new ArrayList<>();
        for (int i = 0; i < 3000; i++) load.add(key.sign(1, List.of(), "slow reader " + i + " " + "x".repeat(200)));
        RawWebSocket ws = RawWebSocket.connect(relay.port()); // a 4 KiB receive buffer, and not read until later
        ws.readText(); // the AUTH challenge
        Thread sender = new Thread(() -> {
            try {
                for (Event e : load) ws.sendText(NostrKey.eventMessage(e));
            } catch (Exception reset) {
                // the relay went away while we were still sending
            }
        });
        sender.start();
        Thread.sleep(300); // part of the load is stored, part is still in flight
        Thread stopping = new Thread(relay::close);
        stopping.start();
        Thread.sleep(300); // the relay answers and says goodbye while the client is not reading
        RawWebSocket.UntilClose heard = ws.readUntilClose();
        sender.join(10_000);
        ws.sendClose();
        stopping.join(30_000);
        ws.close();
        assertEquals(1001, heard.closeCode(), "the close frame says the relay is going away");
        Set<String> acknowledged = new HashSet<>();
        for (String text : heard.texts()) {
            JsonNode m = RelayClient.JSON.readTree(text);
            if (m.get(0).asText().equals("OK") && m.get(2).asBoolean()) acknowledged.add(m.get(1).asText());
        }
        Set<String> stored = assertStoredAreExactlyTheAcknowledged(acknowledged, Map.of());
        assertTrue(stored.size() > 0, "the load was being stored when the relay was asked to stop");
    }

    /**
     * Nothing acknowledged is lost and nothing stored went unanswered: the kind-1 events stored are
     * exactly the ones the client got an OK true for. Returns what was stored.
     */
    private Set<String> assertStoredAreExactlyTheAcknowledged(Set<String> acknowledged, Map<String, String> refusals) throws Exception {
        Set<String> stored = storedAfterRestart();
        for (String id : acknowledged) assertTrue(stored.contains(id), "acknowledged event " + id + " was lost");
        Set<String> unanswered = new HashSet<>(stored);
        unanswered.removeAll(acknowledged);
        if (!unanswered.isEmpty()) {
            // Say what the client heard for them and what the relay logged, so a rare failure explains itself.
            List<String> heard = unanswered.stream().map(id -> id.substring(0, 8) + "=" + refusals.getOrDefault(id, "no OK")).limit(5).toList();
            Path relayLog = dir.resolve("relay.log"); // only where the relay ran as its own process
            if (Files.exists(relayLog)) {
                List<String> log = Files.readAllLines(relayLog);
                System.err.println("SigtermTest relay log:\n" + String.join("\n", log.subList(Math.max(0, log.size() - 30), log.size())));
            }
            assertEquals(0, unanswered.size(), "stored events whose OK never came (of " + stored.size() + " stored, "
                    + acknowledged.size() + " acknowledged; for some of them the client heard " + heard + ")");
        }
        return stored;
    }

    /** The kind-1 events in the test's database, read back through a relay started on it again. */
    private Set<String> storedAfterRestart() throws Exception {
        try (TestRelay restarted = TestRelay.start(dir, "[auth]\nrequired = false\n[limits]\nmax_limit = 5000\n");
             RelayClient client = RelayClient.connect(restarted)) {
            return new HashSet<>(client.queryIds("all", "{\"kinds\":[1],\"limit\":5000}"));
        }
    }

    private static RelayClient connectWhenUp(int port) throws Exception {
        long deadline = System.currentTimeMillis() + 30000;
        while (true) {
            try {
                return RelayClient.connect("ws://127.0.0.1:" + port);
            } catch (Exception e) {
                if (System.currentTimeMillis() > deadline) throw e;
                Thread.sleep(100);
            }
        }
    }
}
