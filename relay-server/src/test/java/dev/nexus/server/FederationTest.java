package dev.nexus.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.nexus.core.Event;
import dev.nexus.core.testing.NostrKey;
import dev.nexus.server.cli.AdminCli;
import dev.nexus.server.sync.PeerSyncScheduler;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Federation through the real thing: two Nexus relays on loopback ports with their own SQLite
 * files, real signed events, and {@code nexus sync} (the admin command) or [[sync.peers]] between them.
 */
class FederationTest {
    private static final String OPEN = "[auth]\nrequired = false\n";
    private static final long NOW = System.currentTimeMillis() / 1000;
    @TempDir Path dir;
    private final NostrKey alice = NostrKey.generate();
    private final NostrKey bob = NostrKey.generate();

    record Run(int code, String out, String err) {}

    static Run cli(String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(), err = new ByteArrayOutputStream();
        int code = AdminCli.run(args, new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8));
        return new Run(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    /** A config for the admin command that opens the same SQLite file as the relay started in {@code relayDir}. */
    private Path cliConfig(Path relayDir, String extra) throws Exception {
        Path toml = dir.resolve(relayDir.getFileName() + "-cli.toml");
        Files.writeString(toml, "[storage]\npath = \"" + relayDir.resolve("nexus.db").toString().replace("\\", "/") + "\"\n" + extra);
        return toml;
    }

    private Path relayDir(String name) throws Exception {
        return Files.createDirectories(dir.resolve(name));
    }

    private static void publishAll(TestRelay relay, List<Event> events) throws Exception {
        try (RelayClient c = RelayClient.connect(relay)) {
            for (Event e : events) c.publish(e);
            for (Event e : events) {
                JsonNode ok = c.ok(e.id());
                assertNotNull(ok, "no OK for " + e.id());
                assertTrue(ok.get(2).asBoolean(), ok.toString());
            }
        }
    }

    private static Set<String> ids(TestRelay relay, String filter) throws Exception {
        try (RelayClient c = RelayClient.connect(relay)) {
            return new HashSet<>(c.queryIds("all", filter));
        }
    }

    private static Set<String> idsOf(List<Event> events) {
        Set<String> out = new HashSet<>();
        for (Event e : events) out.add(e.id());
        return out;
    }

    /** Overlapping sets: 30 common notes, 20 only on A, 25 only on B, B's newer profile replacing A's, and B's deletion of a note A has. */
    private record Sets(List<Event> common, List<Event> onlyA, List<Event> onlyB, Event deletedOnB, Event oldProfile, Event newProfile) {}

    private Sets overlapping() {
        List<Event> common = new ArrayList<>(), onlyA = new ArrayList<>(), onlyB = new ArrayList<>();
        for (int i = 0; i < 30; i++) common.add(alice.sign(1, List.of(), "common " + i, NOW - 1000 + i));
        for (int i = 0; i < 20; i++) onlyA.add(alice.sign(1, List.of(), "only A " + i, NOW - 900 + i));
        for (int i = 0; i < 25; i++) onlyB.add(bob.sign(1, List.of(), "only B " + i, NOW - 800 + i));
        Event doomed = alice.sign(1, List.of(), "regret", NOW - 700);
        Event oldProfile = bob.sign(0, List.of(), "{\"name\":\"old\"}", NOW - 600);
        Event newProfile = bob.sign(0, List.of(), "{\"name\":\"new\"}", NOW - 500);
        return new Sets(common, onlyA, onlyB, doomed, oldProfile, newProfile);
    }

    private void populate(TestRelay a, TestRelay b, Sets s) throws Exception {
        List<Event> onA = new ArrayList<>(s.common());
        onA.addAll(s.onlyA());
        onA.add(s.deletedOnB());
        onA.add(s.oldProfile());
        publishAll(a, onA);
        List<Event> onB = new ArrayList<>(s.common());
        onB.addAll(s.onlyB());
        onB.add(s.deletedOnB());
        onB.add(s.newProfile());
        publishAll(b, onB);
        // Only after its target's OK: pipelined EVENTs are verified in parallel, so a deletion sent in the
        // same burst may be stored first, and the target would then be refused as deleted.
        publishAll(b, List.of(alice.sign(5, List.of(List.of("e", s.deletedOnB().id())), "", NOW - 650)));
    }

    @Test
    void syncDownThenUpMakesTwoRelaysHoldTheSameEventsWithDeletionsAndReplacementsApplied() throws Exception {
        Sets s = overlapping();
        Path dirA = relayDir("a");
        try (TestRelay a = TestRelay.start(dirA, OPEN); TestRelay b = TestRelay.start(relayDir("b"), OPEN)) {
            populate(a, b, s);
            Path config = cliConfig(dirA, "");

            Run down = cli("sync", "--config", config.toString(), b.url(), "--filter", "{}", "--dir", "down");
            assertEquals(0, down.code(), down.out() + down.err());
            assertTrue(down.out().contains("have 22, need 27"), down.out()); // A: 20 notes + doomed + old profile; B: 25 notes + deletion + new profile
            assertTrue(down.out().contains("fetched 27 "), down.out());
            Set<String> onA = ids(a, "{}");
            assertTrue(onA.containsAll(idsOf(s.onlyB())), "A fetched B's notes");
            assertFalse(onA.contains(s.deletedOnB().id()), "B's deletion removed the note on A too");
            assertFalse(onA.contains(s.oldProfile().id()), "B's newer profile replaced A's");
            assertTrue(onA.contains(s.newProfile().id()));
            assertEquals(idsOf(s.onlyB()).size() + 0, ids(a, "{\"authors\":[\"" + bob.pubkey() + "\"],\"kinds\":[1]}").size());

            Run up = cli("sync", "--config", config.toString(), b.url(), "--filter", "{}", "--dir", "up");
            assertEquals(0, up.code(), up.out() + up.err());
            assertTrue(up.out().contains("published 20 "), up.out());
            assertEquals(ids(a, "{}"), ids(b, "{}"));

            Run again = cli("sync", "--config", config.toString(), b.url(), "--dir", "both");
            assertEquals(0, again.code(), again.out() + again.err());
            assertTrue(again.out().contains("have 0, need 0"), again.out());
            assertTrue(again.out().contains("1 negentropy round trips"), again.out());
        }
    }

    @Test
    void syncBothMovesEachWayInOneRunAndTheRefusedDeletedEventIsCounted() throws Exception {
        Sets s = overlapping();
        Path dirA = relayDir("a");
        try (TestRelay a = TestRelay.start(dirA, OPEN); TestRelay b = TestRelay.start(relayDir("b"), OPEN)) {
            populate(a, b, s);
            Run both = cli("sync", "--config", cliConfig(dirA, "").toString(), b.url(), "--dir", "both");
            assertEquals(0, both.code(), both.out() + both.err());
            // Down runs first: B's deletion and newer profile remove A's copies, so only A's 20 notes are left to go up.
            assertTrue(both.out().contains("have 22, need 27"), both.out());
            assertTrue(both.out().contains("published 20 (refused 0, failed 0)"), both.out());
            assertEquals(ids(a, "{}"), ids(b, "{}"));
        }
    }

    @Test
    void aFilterRestrictsWhatMoves() throws Exception {
        Path dirA = relayDir("a");
        try (TestRelay a = TestRelay.start(dirA, OPEN); TestRelay b = TestRelay.start(relayDir("b"), OPEN)) {
            List<Event> onB = new ArrayList<>();
            for (int i = 0; i < 5; i++) onB.add(bob.sign(31990, List.of(List.of("d", "h" + i), List.of("k", "5050")), "{}", NOW - 100 + i));
            for (int i = 0; i < 7; i++) onB.add(bob.sign(1, List.of(), "note " + i, NOW - 100 + i));
            publishAll(b, onB);
            Run run = cli("sync", "--config", cliConfig(dirA, "").toString(), b.url(), "--filter", "{\"kinds\":[31990]}");
            assertEquals(0, run.code(), run.out() + run.err());
            assertEquals(idsOf(onB.subList(0, 5)), ids(a, "{}"));
            assertTrue(run.out().contains("fetched 5 "), run.out());
        }
    }

    @Test
    void aPeerThatRequiresAuthIsAnsweredWithTheConfiguredKeyAndWithoutOneTheSyncFails() throws Exception {
        Path dirA = relayDir("a");
        String key = "0000000000000000000000000000000000000000000000000000000000000003";
        String keyPubkey = "f9308a019258c31049344f85f89d5229b531c845836f99b08601f113bce036f9";
        try (TestRelay a = TestRelay.start(dirA, OPEN);
             TestRelay b = TestRelay.start(relayDir("b"), "[auth]\nrequired = true\nallowed_pubkeys = [\"" + keyPubkey + "\", \"" + bob.pubkey() + "\", \"" + alice.pubkey() + "\"]\n")) {
            List<Event> onB = List.of(bob.sign(1, List.of(), "members only", NOW - 10));
            try (RelayClient c = RelayClient.connect(b)) {
                c.authenticate(bob, b);
                assertTrue(c.publishAndWait(onB.get(0)).get(2).asBoolean());
            }
            Event onA = alice.sign(1, List.of(), "from A", NOW - 5);
            publishAll(a, List.of(onA));

            Run without = cli("sync", "--config", cliConfig(dirA, "").toString(), b.url());
            assertEquals(1, without.code(), without.out() + without.err());
            assertTrue(without.err().contains("requires NIP-42 authentication") && without.err().contains("NEXUS_SYNC_SECRET_KEY"), without.err());

            Path keyFile = dir.resolve("sync.key");
            Files.writeString(keyFile, key + "\n");
            Path config = cliConfig(dirA, "[sync]\nsecret_key_file = \"" + keyFile.toString().replace("\\", "/") + "\"\n");
            // A filter without kinds could match B's restricted kinds (DMs, gift wraps), which B serves only to their parties.
            Run unrestricted = cli("sync", "--config", config.toString(), b.url(), "--dir", "both");
            assertEquals(1, unrestricted.code(), unrestricted.out() + unrestricted.err());
            assertTrue(unrestricted.err().contains("restricted:"), unrestricted.err());
            Run with = cli("sync", "--config", config.toString(), b.url(), "--filter", "{\"kinds\":[1]}", "--dir", "both");
            assertEquals(0, with.code(), with.out() + with.err());
            assertTrue(with.out().contains("authenticated"), with.out());
            assertTrue(with.out().contains("fetched 1 ") && with.out().contains("published 1 "), with.out());
            assertTrue(ids(a, "{}").contains(onB.get(0).id()));
        }
    }

    @Test
    void usageErrorsExitTwoAndAnUnreachablePeerExitsOne() throws Exception {
        Path config = cliConfig(relayDir("a"), "");
        assertEquals(2, cli("sync", "--config", config.toString(), "http://127.0.0.1:1").code());
        assertEquals(2, cli("sync", "--config", config.toString(), "ws://127.0.0.1:1", "--dir", "sideways").code());
        assertEquals(2, cli("sync", "--config", config.toString(), "ws://127.0.0.1:1", "--filter", "{\"kinds\":\"x\"}").code());
        Run unreachable = cli("sync", "--config", config.toString(), "ws://127.0.0.1:1", "--timeout", "5");
        assertEquals(1, unreachable.code(), unreachable.out() + unreachable.err());
        assertTrue(unreachable.err().contains("cannot connect"), unreachable.err());
    }

    @Test
    void aConfiguredPeerIsSyncedOnItsIntervalAndLiveSubscribersOfTheLocalRelaySeeWhatArrives() throws Exception {
        try (TestRelay b = TestRelay.start(relayDir("b"), OPEN);
             TestRelay a = TestRelay.start(relayDir("a"), OPEN + "[[sync.peers]]\nname = \"b\"\nurl = \"" + b.url()
                     + "\"\nfilter = '{\"kinds\":[1]}'\ninterval_seconds = 1\n");
             RelayClient subscriber = RelayClient.connect(a)) {
            subscriber.req("live", "{\"kinds\":[1]}");
            subscriber.expect("EOSE", 5000);
            Event fresh = bob.sign(1, List.of(), "published on B after A started", System.currentTimeMillis() / 1000);
            publishAll(b, List.of(fresh));
            List<JsonNode> delivered = subscriber.eventsFor("live", 1, 15_000);
            assertEquals(fresh.id(), delivered.get(0).get("id").asText());
            PeerSyncScheduler.PeerTotals totals = a.server().peerSync().totals("b");
            for (int i = 0; i < 100 && totals.fetched().get() < 1; i++) Thread.sleep(50); // the round's totals are added as it ends
            assertEquals(1, totals.fetched().get());
            assertEquals(0, totals.failedRounds().get());
            String scrape = a.server().metrics().scrapeText();
            assertTrue(scrape.contains("nexus_sync_events_total{direction=\"fetched\",peer=\"b\"} 1.0"), "what moved is a metric:\n" + scrape.lines().filter(l -> l.contains("sync")).toList());
            Event other = bob.sign(7, List.of(), "+", System.currentTimeMillis() / 1000);
            publishAll(b, List.of(other));
            Thread.sleep(2500);
            assertFalse(ids(a, "{}").contains(other.id()), "kind 7 is outside the peer's filter");
            assertTrue(totals.rounds().get() >= 2, "rounds " + totals.rounds().get());
        }
    }

    @Test
    void aPeerThatRefusesLargeFiltersIsReconciledInTimeSlices() throws Exception {
        Path dirA = relayDir("a");
        try (TestRelay a = TestRelay.start(dirA, OPEN); TestRelay b = TestRelay.start(relayDir("b"), OPEN + "[limits]\nmax_negentropy_events = 10\n")) {
            List<Event> all = new ArrayList<>(), everyOther = new ArrayList<>();
            for (int i = 0; i < 40; i++) {
                Event e = bob.sign(1, List.of(), "note " + i, NOW - 4000 + i * 100);
                all.add(e);
                if (i % 2 == 0) everyOther.add(e);
            }
            publishAll(b, all);
            publishAll(a, everyOther);
            Run run = cli("sync", "--config", cliConfig(dirA, "").toString(), b.url(), "--filter", "{\"kinds\":[1]}");
            assertEquals(0, run.code(), run.out() + run.err());
            assertTrue(run.out().contains("have 0, need 20"), run.out());
            assertFalse(run.out().contains("NEG-OPEN 1,"), "the first NEG-OPEN is refused, so there are several: " + run.out());
            assertEquals(idsOf(all), ids(a, "{}"));
        }
    }

    @Test
    void aPeerThatRequiresAuthOnlyToWriteGetsEveryPublishedEventAfterOneAuthentication() throws Exception {
        Path dirA = relayDir("a");
        try (TestRelay a = TestRelay.start(dirA, OPEN); TestRelay b = TestRelay.start(relayDir("b"), "[auth]\nrequired = \"writes\"\n")) {
            List<Event> onA = new ArrayList<>();
            for (int i = 0; i < 70; i++) onA.add(alice.sign(1, List.of(), "note " + i, NOW - 1000 + i)); // more than the 32 in flight
            publishAll(a, onA);
            Path keyFile = dir.resolve("sync.key");
            Files.writeString(keyFile, "0000000000000000000000000000000000000000000000000000000000000007");
            Run run = cli("sync", "--config", cliConfig(dirA, "[sync]\nsecret_key_file = \"" + keyFile.toString().replace("\\", "/") + "\"\n").toString(),
                    b.url(), "--filter", "{\"kinds\":[1]}", "--dir", "up");
            assertEquals(0, run.code(), run.out() + run.err());
            assertTrue(run.out().contains("published 70 (refused 0, failed 0); authenticated"), run.out());
            assertEquals(idsOf(onA), ids(b, "{}"));
        }
    }
}
