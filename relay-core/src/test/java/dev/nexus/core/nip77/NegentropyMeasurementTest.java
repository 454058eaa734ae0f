package dev.nexus.core.nip77;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Round trips and bytes to reconcile 100,000 events that differ by 1% (issue 13 asks for the
 * figure). Counts, not timings: they depend only on the sets and the protocol. The figures are
 * written to target/nip77-measurement.txt.
 */
class NegentropyMeasurementTest {
    private static final int EVENTS = 100_000;
    private static final long DAY_START = 1_764_000_000L;

    private final List<String> report = new ArrayList<>();
    private final List<Runnable> checks = new ArrayList<>();

    @Test
    void reconciling100000EventsThatDifferBy1PercentTakesFewRoundTripsAndLittleMoreThanTheMissingIds() throws IOException {
        Random random = new Random(100_000);
        List<TwoSets.Item> relay = new ArrayList<>();
        for (int i = 0; i < EVENTS; i++) relay.add(new TwoSets.Item(DAY_START + random.nextInt(86_400), TwoSets.randomId(random)));
        relay.sort((a, b) -> Long.compare(a.timestamp(), b.timestamp()));

        // 1% scattered: the client lacks 1,000 events chosen at random
        List<TwoSets.Item> lacksScattered = new ArrayList<>();
        for (int i = 0; i < EVENTS; i++) if (i % 100 != 37) lacksScattered.add(relay.get(i));
        // 1% in one stretch: the client was offline for the span of 1,000 consecutive events
        List<TwoSets.Item> lacksStretch = new ArrayList<>(relay.subList(0, 50_000));
        lacksStretch.addAll(relay.subList(51_000, EVENTS));
        // 1% both ways: 500 only on each side
        List<TwoSets.Item> bothWays = new ArrayList<>();
        for (int i = 0; i < EVENTS; i++) if (i % 200 != 11) bothWays.add(relay.get(i));
        for (int i = 0; i < 500; i++) bothWays.add(new TwoSets.Item(DAY_START + random.nextInt(86_400), TwoSets.randomId(random)));

        for (long limit : new long[] {0, 60_000}) {
            measure("client lacks 1% scattered", lacksScattered, relay, limit);
            measure("client lacks 1% in one stretch", lacksStretch, relay, limit);
            measure("0.5% only on each side", bothWays, relay, limit);
        }
        Path out = Path.of("target", "nip77-measurement.txt");
        Files.createDirectories(out.getParent());
        Files.write(out, report);
        report.forEach(System.out::println);
        checks.forEach(Runnable::run);
    }

    private void measure(String label, List<TwoSets.Item> client, List<TwoSets.Item> relay, long frameSizeLimit) {
        Session s = Session.run(new Negentropy(TwoSets.storage(client), frameSizeLimit),
                new Negentropy(TwoSets.storage(relay), frameSizeLimit), 100);
        assertEquals(TwoSets.minus(client, relay), new HashSet<>(s.have), label);
        assertEquals(TwoSets.minus(relay, client), new HashSet<>(s.need), label);
        long idsToMove = (long) (s.have.size() + s.need.size()) * Negentropy.ID_SIZE;
        report.add(String.format("%-32s frame limit %-6s: %d round trips, %,d bytes up, %,d bytes down (hex on the wire: x2); %,d ids differ (%,d bytes of ids); naive id exchange: %,d bytes",
                label, frameSizeLimit == 0 ? "none" : Long.toString(frameSizeLimit), s.roundTrips, s.bytesUp, s.bytesDown,
                s.have.size() + s.need.size(), idsToMove, (long) relay.size() * Negentropy.ID_SIZE));
        checks.add(() -> {
            // what makes negentropy worth it: less than sending every id, in about log16(n) round trips
            // when frames are unlimited; a frame limit adds the round trips needed to carry the bytes
            assertTrue(s.bytesUp + s.bytesDown < relay.size() * Negentropy.ID_SIZE / 2, label + ": too many bytes");
            long carried = Math.max(s.bytesUp, s.bytesDown);
            long bound = 6 + (frameSizeLimit == 0 ? 0 : 2 * carried / (frameSizeLimit - 200));
            assertTrue(s.roundTrips <= bound, label + ": " + s.roundTrips + " round trips, more than " + bound);
        });
    }
}
