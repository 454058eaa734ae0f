package dev.nexus.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.nexus.core.Event;
import dev.nexus.core.testing.NostrKey;
import dev.nexus.storage.RetentionPolicy;
import dev.nexus.storage.SqliteEventStore;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What reconciling large sets costs: two relays holding N events each that differ by 1% (half of
 * the difference on each side), synced both ways with {@code nexus sync}; the summary line (round
 * trips, bytes) is printed for docs/FEDERATION.md. N is 20,000 by default; measure others with
 * {@code -Dnexus.sync.measure=20000,100000}. Asserts only that the relays end up equal.
 */
class SyncMeasurementTest {
    @TempDir Path dir;

    @Test
    void reconcilingSetsThatDifferByOnePercentMovesExactlyTheDifference() throws Exception {
        for (String size : System.getProperty("nexus.sync.measure", "20000").split(",")) measure(Integer.parseInt(size.trim()));
    }

    private void measure(int n) throws Exception {
        Path dirA = Files.createDirectories(dir.resolve("a" + n)), dirB = Files.createDirectories(dir.resolve("b" + n));
        int differing = n / 100, onlyEach = differing / 2, common = n - onlyEach;
        NostrKey key = NostrKey.generate();
        long now = System.currentTimeMillis() / 1000;
        List<Event> shared = new ArrayList<>(common), onlyA = new ArrayList<>(onlyEach), onlyB = new ArrayList<>(onlyEach);
        // Spread over the last ~n/2 seconds: several events per second, as a busy relay has.
        for (int i = 0; i < common; i++) shared.add(key.sign(1, List.of(), "shared " + i, now - n / 2 + i / 2));
        for (int i = 0; i < onlyEach; i++) onlyA.add(key.sign(1, List.of(), "only A " + i, now - n / 2 + i * 100 % (n / 2)));
        for (int i = 0; i < onlyEach; i++) onlyB.add(key.sign(1, List.of(), "only B " + i, now - n / 2 + i * 77 % (n / 2)));
        fill(dirA.resolve("nexus.db"), shared, onlyA);
        fill(dirB.resolve("nexus.db"), shared, onlyB);
        String open = "[auth]\nrequired = false\n";
        try (TestRelay a = TestRelay.start(dirA, open); TestRelay b = TestRelay.start(dirB, open)) {
            Path config = dir.resolve("a" + n + ".toml");
            Files.writeString(config, "[storage]\npath = \"" + dirA.resolve("nexus.db").toString().replace("\\", "/") + "\"\n");
            FederationTest.Run run = FederationTest.cli("sync", "--config", config.toString(), b.url(), "--dir", "both");
            System.out.println("MEASURED n=" + n + " differing=" + differing + ": " + run.out().strip());
            assertEquals(0, run.code(), run.out() + run.err());
            assertTrue(run.out().contains("have " + onlyEach + ", need " + onlyEach), run.out());
            assertEquals(count(a), count(b));
            assertEquals(n + onlyEach, count(a));
        }
    }

    private static void fill(Path db, List<Event> shared, List<Event> own) {
        try (SqliteEventStore store = new SqliteEventStore(db, "normal", 1, 1000, RetentionPolicy.DEFAULT)) {
            List<CompletableFuture<?>> writes = new ArrayList<>();
            for (Event e : shared) writes.add(store.write(e));
            for (Event e : own) writes.add(store.write(e));
            for (CompletableFuture<?> w : writes) w.join();
        }
    }

    /** NIP-45 COUNT through the relay. */
    private static long count(TestRelay relay) throws Exception {
        try (RelayClient c = RelayClient.connect(relay)) {
            c.send("[\"COUNT\",\"n\",{}]");
            return c.expect("COUNT", 30_000).get(2).get("count").asLong();
        }
    }
}
