package dev.nexus.server;

import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.nexus.core.Event;
import dev.nexus.core.Kinds;
import dev.nexus.core.testing.NostrKey;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * AUTH work never starves job traffic: while attackers on many connections replay AUTH events with
 * a valid id and a forged signature (each copy would cost a Schnorr verification), an authenticated
 * agent's job requests are all accepted. Its OK latencies with and without the flood are printed for
 * the record, not asserted (speed is measured by the benchmarks in bench/, docs/PERFORMANCE.md).
 */
class AuthFloodTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int JOBS = 150;
    private static final long INTERVAL_NANOS = 20_000_000L; // 50 jobs/s
    private static final int ATTACKERS = 6;
    @TempDir Path dir;

    @Test
    void anAgentsJobsAreAllAcceptedWhileOthersFloodForgedAuth() throws Exception {
        try (TestRelay relay = TestRelay.start(dir, "")) {
            NostrKey agentKey = NostrKey.generate();
            List<Long> quiet = jobOkLatencies(relay, agentKey);

            AtomicBoolean flooding = new AtomicBoolean(true);
            AtomicLong forgedSent = new AtomicLong();
            List<Thread> attackers = new ArrayList<>();
            for (int i = 0; i < ATTACKERS; i++) {
                Thread t = new Thread(() -> floodForgedAuth(relay, flooding, forgedSent), "attacker-" + i);
                t.setDaemon(true);
                t.start();
                attackers.add(t);
            }
            List<Long> flooded;
            try {
                Thread.sleep(300); // the flood is under way before the agent starts
                flooded = jobOkLatencies(relay, NostrKey.generate());
            } finally {
                flooding.set(false);
                for (Thread t : attackers) t.join(10_000);
            }
            assertTrue(forgedSent.get() > 1000, "the flood ran: " + forgedSent.get() + " forged AUTH frames");
            assertTrue(relay.server().connectionsClosed(ConnectionCloses.Reason.AUTH_FAILURES) > 0,
                    "the attackers' connections were closed for their failed AUTHs, and counted so");
            System.out.printf("job OK latency, quiet: p50 %.1f ms p99 %.1f ms; during a flood of %d forged AUTH frames: p50 %.1f ms p99 %.1f ms%n",
                    percentile(quiet, 50), percentile(quiet, 99), forgedSent.get(), percentile(flooded, 50), percentile(flooded, 99));
        }
    }

    /** One authenticated agent sends job requests at a steady pace; every one must be accepted. */
    private static List<Long> jobOkLatencies(TestRelay relay, NostrKey key) throws Exception {
        List<Long> latencies = new ArrayList<>();
        try (RelayClient agent = RelayClient.connect(relay)) {
            agent.authenticate(key, relay);
            long start = System.nanoTime();
            for (int i = 0; i < JOBS; i++) {
                long wait = start + i * INTERVAL_NANOS - System.nanoTime();
                if (wait > 0) LockSupport.parkNanos(wait);
                Event job = key.sign(5050, List.of(List.of("i", "job " + i, "text")), "");
                long sent = System.nanoTime();
                agent.publish(job);
                JsonNode ok = agent.ok(job.id());
                assertNotNull(ok, "no OK for job " + i);
                assertTrue(ok.get(2).asBoolean(), ok.toString());
                latencies.add(System.nanoTime() - sent);
            }
        }
        return latencies;
    }

    /** Connects again and again; on each connection answers the challenge with forged AUTH copies until dropped. */
    private static void floodForgedAuth(TestRelay relay, AtomicBoolean flooding, AtomicLong sent) {
        NostrKey attacker = NostrKey.generate();
        while (flooding.get()) {
            try (RawWebSocket ws = RawWebSocket.connect(relay.port())) {
                JsonNode auth = JSON.readTree(ws.readText());
                Event good = attacker.sign(Kinds.AUTH, List.of(List.of("relay", relay.url()), List.of("challenge", auth.get(1).asText())), "");
                Event forged = new Event(good.id(), good.pubkey(), good.createdAt(), good.kind(), good.tags(), good.content(),
                        (good.sig().charAt(0) == 'a' ? "b" : "a") + good.sig().substring(1));
                byte[] frame = RawWebSocket.frame("[\"AUTH\"," + forged.json() + "]");
                for (int i = 0; i < 200 && flooding.get(); i++) {
                    ws.socket.getOutputStream().write(frame);
                    sent.incrementAndGet();
                }
                ws.socket.getOutputStream().flush();
                ws.socket.setSoTimeout(2000);
                ws.drain(); // until the relay closes the connection for too many failed AUTHs
            } catch (Exception dropped) {
                // the relay closed us mid-flood: connect again
            }
        }
    }

    private static double percentile(List<Long> nanos, int p) {
        List<Long> sorted = new ArrayList<>(nanos);
        Collections.sort(sorted);
        return sorted.get(Math.min(sorted.size() - 1, (int) Math.ceil(p / 100.0 * sorted.size()) - 1)) / 1e6;
    }
}
