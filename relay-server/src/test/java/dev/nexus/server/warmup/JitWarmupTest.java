package dev.nexus.server.warmup;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.nexus.config.NexusConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class JitWarmupTest {
    private static final WarmupTraffic.Shape SMALL = new WarmupTraffic.Shape(400, 8, 8, 2, 16, 160, 2, 4);

    @TempDir
    Path dir;

    @Test
    void everyEventIsAcceptedFannedOutAndEveryQueryAnsweredOnAThrowawayRelayThatLeavesNoFileBehind() throws Exception {
        Path operatorDb = dir.resolve("operator").resolve("nexus.db");
        Path scratch = Files.createDirectory(dir.resolve("scratch"));
        NexusConfig operator = NexusConfig.parse("[storage]\npath = \"" + operatorDb + "\"\n[auth]\nrequired = true\n");

        JitWarmup.Report report = JitWarmup.run(operator, scratch, SMALL, () -> false).orElseThrow();

        assertEquals(SMALL.events(), report.published());
        // One connection's events are verified in parallel, so of two versions of a replaceable event
        // (a tenth of the traffic) the older may reach the writer second and be answered "duplicate:".
        assertEquals(SMALL.events(), report.accepted() + report.superseded(),
                "every signed event is verified, and stored and acknowledged with OK true, or superseded by a newer version: " + report);
        assertTrue(report.superseded() <= SMALL.events() / 10, "only versions of replaceable events are superseded: " + report);
        assertEquals(expectedLiveDeliveries(SMALL), report.liveDeliveries(), "each event reaches exactly the subscribers whose filters match it");
        assertEquals(SMALL.queries(), report.answered(), "every REQ ends in EOSE and every COUNT is answered (none CLOSED)");
        try (Stream<Path> left = Files.list(scratch)) {
            assertEquals(0, left.count(), "the temporary store is deleted");
        }
        assertFalse(Files.exists(operatorDb.getParent()), "the operator's store is never opened by the warm-up");
    }

    @Test
    void whereTheTemporaryDirectoryCannotBeWrittenItWarmsUpBesideTheStore() throws Exception {
        NexusConfig operator = NexusConfig.parse("[storage]\npath = \"" + dir.resolve("data").resolve("nexus.db") + "\"\n");
        assertEquals(dir, JitWarmup.scratchParent(dir, operator));
        assertEquals(dir.resolve("data"), JitWarmup.scratchParent(dir.resolve("not-there"), operator));
    }

    @Test
    void theThrowawayRelayListensOnLoopbackOnlyAndStoresInItsOwnFile() throws Exception {
        NexusConfig operator = NexusConfig.parse("[server]\nbind = \"0.0.0.0:7777\"\nlive_coalesce_millis = 9\n[storage]\nbackend = \"sqlite\"\npath = \"/srv/nexus.db\"\n");
        Path db = dir.resolve("a \"quoted\" dir").resolve("warmup.db");

        NexusConfig throwaway = JitWarmup.throwawayConfig(operator, db);

        assertEquals("127.0.0.1", throwaway.server().host());
        assertEquals(0, throwaway.server().port());
        assertEquals(db.toAbsolutePath().toString(), throwaway.storage().path());
        assertEquals(9, throwaway.server().liveCoalesceMillis(), "the operator's fan-out pacing is the one compiled for");
        assertFalse(throwaway.server().warmUp());
        assertFalse(throwaway.metrics().enabled());
        assertTrue(throwaway.server().loopbackBind());
        assertEquals(NexusConfig.Backend.SQLITE, throwaway.storage().backend());
    }

    @Test
    void anLmdbRelayWarmsUpOnLmdbAndAPostgresRelayOnSqliteNeverOnTheSharedDatabase() throws Exception {
        Path db = dir.resolve("warmup.db");
        NexusConfig lmdb = NexusConfig.parse("[storage]\nbackend = \"lmdb\"\npath = \"/srv/nexus-lmdb\"\n");
        assertEquals(NexusConfig.Backend.LMDB, JitWarmup.throwawayConfig(lmdb, db).storage().backend());
        assertEquals(db.toAbsolutePath().toString(), JitWarmup.throwawayConfig(lmdb, db).storage().path());
        NexusConfig postgres = NexusConfig.parse("[storage]\nbackend = \"postgres\"\npostgres_url = \"postgresql://127.0.0.1:5432/nexus\"\n");
        assertEquals(NexusConfig.Backend.SQLITE, JitWarmup.throwawayConfig(postgres, db).storage().backend());
    }

    /** Subscriber i follows topic i % 4 and provider i % 4; kind-1 event j has topic j % 4 and job request j names provider j % 4. */
    private static long expectedLiveDeliveries(WarmupTraffic.Shape shape) {
        long n = 0;
        for (int j = 0; j < shape.events(); j++) {
            if (j % 10 > 6) continue; // results, feedback, handlers and profiles match no live subscription
            for (int i = 0; i < shape.subscribers(); i++) if (i % 4 == j % 4) n++;
        }
        return n;
    }

    @Test
    void aStopRequestedWhileItRunsEndsItWithinAFractionOfASecondAndStillDeletesItsFiles() throws Exception {
        Path scratch = Files.createDirectory(dir.resolve("scratch"));
        NexusConfig operator = NexusConfig.parse("[storage]\npath = \"" + dir.resolve("op.db") + "\"\n");
        long started = System.nanoTime();
        AtomicInteger asked = new AtomicInteger();

        // The relay is told to stop once the warm-up has begun waiting for its first answers.
        var report = JitWarmup.run(operator, scratch, WarmupTraffic.STANDARD, () -> asked.incrementAndGet() > 1);

        assertTrue(report.isEmpty(), "a cancelled warm-up reports nothing");
        assertTrue(System.nanoTime() - started < TimeUnit.SECONDS.toNanos(10), "it did not run to its 30 s deadline");
        try (Stream<Path> left = Files.list(scratch)) {
            assertEquals(0, left.count(), "the temporary store is deleted");
        }
    }

    @Test
    void directoriesAKilledRelayLeftBehindAreRemovedButNotOneAnotherRelayIsUsingNow() throws Exception {
        Path old = Files.createDirectories(dir.resolve(JitWarmup.DIR_PREFIX + "killed").resolve("sub"));
        Files.writeString(old.resolve("warmup.db"), "x");
        Files.setLastModifiedTime(old.getParent(), FileTime.fromMillis(System.currentTimeMillis() - 2 * JitWarmup.LEFTOVER_AGE_MILLIS));
        Path current = Files.createDirectory(dir.resolve(JitWarmup.DIR_PREFIX + "running"));
        Path unrelated = Files.createDirectory(dir.resolve("someone-else"));
        Files.setLastModifiedTime(unrelated, FileTime.fromMillis(0));
        Path precious = Files.createDirectory(dir.resolve("data"));
        Files.writeString(precious.resolve("nexus.db"), "the operator's events");
        Path planted = Files.createSymbolicLink(dir.resolve(JitWarmup.DIR_PREFIX + "link"), precious);
        Path ours = Files.createDirectory(dir.resolve(JitWarmup.DIR_PREFIX + "ours"));
        Files.setLastModifiedTime(ours, FileTime.fromMillis(0));

        JitWarmup.removeLeftovers(dir, Files.getOwner(ours), ours);

        assertFalse(Files.exists(old.getParent()));
        assertTrue(Files.exists(current), "another relay may be using a recent one");
        assertTrue(Files.exists(unrelated));
        assertTrue(Files.exists(ours), "not the one this run made");
        assertTrue(Files.isSymbolicLink(planted) && Files.exists(precious.resolve("nexus.db")), "a link is never followed");
    }
}
