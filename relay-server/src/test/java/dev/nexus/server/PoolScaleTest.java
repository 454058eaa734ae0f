package dev.nexus.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.nexus.core.Event;
import dev.nexus.core.testing.NostrKey;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * One orchestrating key posting jobs for a pool of provider nodes, on the default budgets: 50
 * providers each on {@code {"kinds":[5050],"#p":[<self>]}}, one authenticated buyer sending 200 jobs
 * at about 100 a second. Every job is accepted and reaches exactly its provider, once. The delivery
 * latencies are printed (p50/p99/max); they are measured here, not asserted (see docs/performance-history.md, "Pool scale").
 */
class PoolScaleTest {
    private static final int PROVIDERS = 50;
    private static final int JOBS = 200;
    private static final long INTERVAL_NANOS = 10_000_000L; // ~100 jobs/s
    @TempDir Path dir;

    @ParameterizedTest(name = "auth required: {0}")
    @ValueSource(booleans = {true, false})
    void fiftyProvidersEachGetExactlyTheirJobsFromOneBuyerAtAHundredASecond(boolean authRequired) throws Exception {
        String toml = authRequired ? "" : "[auth]\nrequired = false\n";
        NostrKey buyerKey = NostrKey.generate();
        List<NostrKey> providerKeys = new ArrayList<>();
        for (int i = 0; i < PROVIDERS; i++) providerKeys.add(NostrKey.generate());
        List<RelayClient> providers = new ArrayList<>();
        try (TestRelay relay = TestRelay.start(dir, toml); RelayClient buyer = RelayClient.connect(relay)) {
            try {
                for (NostrKey key : providerKeys) {
                    RelayClient p = RelayClient.connect(relay);
                    providers.add(p);
                    if (authRequired) p.authenticate(key, relay);
                    p.req("jobs", "{\"kinds\":[5050],\"#p\":[\"" + key.pubkey() + "\"]}");
                }
                for (RelayClient p : providers) p.expect("EOSE", 10000);
                if (authRequired) buyer.authenticate(buyerKey, relay);

                List<Event> jobs = new ArrayList<>();
                Map<Integer, List<String>> expected = new HashMap<>();
                for (int i = 0; i < JOBS; i++) {
                    int target = i % PROVIDERS;
                    Event job = buyerKey.sign(5050, List.of(List.of("p", providerKeys.get(target).pubkey())), "{\"job\":" + i + "}");
                    jobs.add(job);
                    expected.computeIfAbsent(target, k -> new ArrayList<>()).add(job.id());
                }
                Map<String, Long> sentAt = new HashMap<>();
                long start = System.nanoTime();
                for (int i = 0; i < JOBS; i++) {
                    long due = start + i * INTERVAL_NANOS;
                    long wait = due - System.nanoTime();
                    if (wait > 0) LockSupport.parkNanos(wait);
                    sentAt.put(jobs.get(i).id(), System.nanoTime());
                    buyer.publish(jobs.get(i));
                }
                double sendSeconds = (System.nanoTime() - start) / 1e9;
                for (Event job : jobs) {
                    JsonNode ok = buyer.ok(job.id());
                    assertNotNull(ok, "no OK for job " + job.id());
                    assertTrue(ok.get(2).asBoolean(), ok.toString());
                }

                List<Long> latencies = new ArrayList<>();
                for (int i = 0; i < PROVIDERS; i++) {
                    RelayClient p = providers.get(i);
                    List<String> got = p.eventsFor("jobs", expected.get(i).size(), 15000).stream().map(e -> e.get("id").asText()).toList();
                    assertEquals(expected.get(i), got, "provider " + i + " gets exactly its jobs, in order");
                    for (String id : got) latencies.add(p.firstArrivalNanos.get(id) - sentAt.get(id));
                }
                // No duplicates or strays arrive later.
                for (int i = 0; i < PROVIDERS; i++) {
                    assertTrue(providers.get(i).eventsFor("jobs", 1, i == 0 ? 500 : 1).isEmpty(), "provider " + i + " got an extra event");
                }
                latencies.sort(null);
                System.out.printf("pool-scale (auth %s): %d jobs to %d providers in %.2f s (%.0f/s); delivery p50 %.1f ms, p99 %.1f ms, max %.1f ms%n",
                        authRequired ? "required" : "off", JOBS, PROVIDERS, sendSeconds, JOBS / sendSeconds,
                        latencies.get(latencies.size() / 2) / 1e6, latencies.get((int) Math.ceil(latencies.size() * 0.99) - 1) / 1e6,
                        latencies.get(latencies.size() - 1) / 1e6);
            } finally {
                for (RelayClient p : providers) p.close();
            }
        }
    }
}
