package dev.nexus.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import dev.nexus.core.Event;
import dev.nexus.core.testing.NostrKey;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Memory under the operator's command: the relay started exactly as README says
 * ({@code java -jar nexus.jar --config nexus.toml}, no JVM flags) keeps its resident memory bounded
 * while a subscriber stops reading and another client publishes 20,000 events of ~2 KB. What bounds
 * it is the launcher's heap cap and Serial GC (see README) plus the outbound bound that drops the
 * stalled reader; this test reads the relay JVM's RSS from /proc, never a timing.
 */
class MemoryUnderOperatorsCommandIT {
    private static final Pattern LISTENING = Pattern.compile("listening on 127\\.0\\.0\\.1:(\\d+)");
    private static final long MIB = 1024 * 1024;
    private static final long MAX_RSS_GROWTH = 200 * MIB;
    private static final int EVENTS = 20_000;
    private static final int WINDOW = 200;

    @TempDir Path dir;
    private Process launcher;

    @AfterEach
    void stop() {
        if (launcher != null) {
            launcher.descendants().forEach(ProcessHandle::destroyForcibly);
            launcher.destroyForcibly();
        }
    }

    private static long rssBytes(long pid) throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/" + pid + "/status"))) {
            if (line.startsWith("VmRSS:")) return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
        }
        throw new IOException("no VmRSS for " + pid);
    }

    @Test
    void aStalledSubscriberAndTwentyThousandTwoKilobyteEventsGrowTheRelayByAtMostTwoHundredMiB() throws Exception {
        // Auth is off and the per-key budget raised only so that one test client can publish 20,000
        // events in seconds; the JVM and every memory limit are the relay's defaults.
        Path cfg = dir.resolve("nexus.toml");
        Files.writeString(cfg, "[server]\nbind = \"127.0.0.1:0\"\n[storage]\npath = \"" + dir.resolve("nexus.db") + "\"\n"
                + "[auth]\nrequired = false\n[rate_limits]\nevents_per_second = 1000000.0\nevents_burst = 1000000\n");
        Path output = dir.resolve("out.log");
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        ProcessBuilder pb = new ProcessBuilder(java, "-jar", System.getProperty("nexus.jar"), "--config", cfg.toString())
                .redirectErrorStream(true).redirectOutput(output.toFile());
        pb.environment().remove(Launcher.NO_RELAUNCH_ENV);
        pb.environment().remove("JAVA_TOOL_OPTIONS");
        launcher = pb.start();
        int port = -1;
        for (long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(90); port < 0 && System.nanoTime() < end; Thread.sleep(100)) {
            Matcher m = LISTENING.matcher(Files.readString(output, StandardCharsets.UTF_8));
            if (m.find()) port = Integer.parseInt(m.group(1));
            if (!launcher.isAlive()) fail("the relay exited:\n" + Files.readString(output));
        }
        assertTrue(port > 0, "the relay did not start listening");
        // The launcher re-executes itself as the relay JVM (same pid); where exec is unavailable the relay is its child.
        long relayPid = LauncherIT.relayJvmsUnder(launcher).stream().findFirst().map(ProcessHandle::pid).orElse(launcher.pid());
        assertTrue(Files.readString(output).contains("-XX:+UseSerialGC"), "the relay runs with the launcher's options");

        NostrKey key = NostrKey.generate();
        String body = "x".repeat(1900);
        List<Event> events = IntStream.range(0, EVENTS).parallel()
                .mapToObj(i -> key.sign(1, List.of(List.of("t", "load")), i + " " + body)).toList();

        long before = rssBytes(relayPid);
        AtomicLong peak = new AtomicLong(before);
        AtomicBoolean sampling = new AtomicBoolean(true);
        Thread sampler = new Thread(() -> {
            while (sampling.get()) {
                try {
                    peak.accumulateAndGet(rssBytes(relayPid), Math::max);
                    Thread.sleep(50);
                } catch (Exception e) {
                    return;
                }
            }
        }, "rss-sampler");
        sampler.setDaemon(true);
        sampler.start();

        String url = "ws://127.0.0.1:" + port;
        try (RawWebSocket stalled = RawWebSocket.connect(port); RelayClient publisher = RelayClient.connect(url)) {
            stalled.sendText("[\"REQ\",\"all\",{\"kinds\":[1]}]");
            String frame;
            do frame = stalled.readText(); while (!frame.startsWith("[\"EOSE\"")); // the AUTH challenge comes first
            // From here on the subscriber reads nothing.
            List<String> pending = new ArrayList<>();
            int accepted = 0;
            for (Event e : events) {
                publisher.publish(e);
                pending.add(e.id());
                if (pending.size() == WINDOW) accepted += awaitOks(publisher, pending);
            }
            accepted += awaitOks(publisher, pending);
            assertEquals(EVENTS, accepted, "every event was stored");
        } finally {
            sampling.set(false);
            sampler.join(5000);
        }
        long growth = peak.get() - before;
        System.out.printf("relay RSS %d MiB before, peak %d MiB: +%d MiB for %d events of ~2 KB with a stalled subscriber%n",
                before / MIB, peak.get() / MIB, growth / MIB, EVENTS);
        assertTrue(growth <= MAX_RSS_GROWTH, "relay RSS grew by " + growth / MIB + " MiB");
    }

    private static int awaitOks(RelayClient publisher, List<String> ids) throws Exception {
        int accepted = 0;
        for (String id : ids) {
            JsonNode ok = publisher.ok(id);
            if (ok.get(2).asBoolean()) accepted++;
        }
        ids.clear();
        return accepted;
    }
}
