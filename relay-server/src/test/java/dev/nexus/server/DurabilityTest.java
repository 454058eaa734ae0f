package dev.nexus.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.nexus.core.Event;
import dev.nexus.core.testing.NostrKey;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.io.TempDir;

/** "OK true" is sent only after commit: acknowledged events survive the relay being killed with SIGKILL. */
class DurabilityTest {
    @TempDir Path dir;

    @ParameterizedTest(name = "on {0}")
    @ValueSource(strings = {"sqlite", "lmdb"})
    void everyAcknowledgedEventSurvivesKillMinus9(String backend) throws Exception {
        int port;
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort();
        }
        Path db = dir.resolve("nexus.db");
        Path config = dir.resolve("nexus.toml");
        Files.writeString(config, "[server]\nbind = \"127.0.0.1:" + port + "\"\n[storage]\nbackend = \"" + backend + "\"\npath = \"" + db.toString().replace("\\", "/")
                + "\"\n[auth]\nrequired = false\n");
        List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString()));
        command.addAll(JvmPlan.LMDB_OPENS); // what the launcher passes; --no-relaunch skips it
        command.addAll(List.of("-cp", System.getProperty("java.class.path"), Main.class.getName(), "--no-relaunch", "--config", config.toString()));
        Process relay = new ProcessBuilder(command)
                .redirectErrorStream(true).redirectOutput(dir.resolve("relay.log").toFile()).start();
        List<String> acknowledged = new ArrayList<>();
        try {
            RelayClient client = connectWhenUp(port);
            NostrKey key = NostrKey.generate();
            List<Event> sent = new ArrayList<>();
            for (int i = 0; i < 300; i++) {
                Event e = key.sign(i % 2 == 0 ? 1 : 5050, List.of(), "event " + i);
                sent.add(e);
                client.publish(e);
            }
            // Collect what has been acknowledged so far, then kill while later events may still be in flight.
            for (Event e : sent.subList(0, 200)) {
                if (client.ok(e.id()).get(2).asBoolean()) acknowledged.add(e.id());
            }
        } finally {
            relay.destroyForcibly(); // SIGKILL: no shutdown hook, no clean close of SQLite
            assertTrue(relay.waitFor(10, TimeUnit.SECONDS));
        }
        assertEquals(200, acknowledged.size());
        try (TestRelay restarted = TestRelay.start(dir, "[storage]\nbackend = \"" + backend + "\"\n[auth]\nrequired = false\n[limits]\nmax_limit = 1000\n");
             RelayClient client = RelayClient.connect(restarted)) {
            Set<String> stored = new HashSet<>(client.queryIds("all", "{\"limit\":1000}"));
            for (String id : acknowledged) assertTrue(stored.contains(id), "acknowledged event " + id + " was lost");
        }
    }

    static RelayClient connectWhenUp(int port) throws Exception {
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
