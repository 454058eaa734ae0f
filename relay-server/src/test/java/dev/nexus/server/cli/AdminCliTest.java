package dev.nexus.server.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.nexus.core.Event;
import dev.nexus.core.EventJson;
import dev.nexus.core.testing.NostrKey;
import dev.nexus.config.NexusConfig;
import dev.nexus.server.sync.FilterJson;
import dev.nexus.storage.EventStore;
import dev.nexus.storage.RetentionPolicy;
import dev.nexus.storage.StoredEvent;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import dev.nexus.storage.SqliteEventStore;
import dev.nexus.storage.WriteResult;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.zip.GZIPInputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The admin commands run as {@code java -jar nexus.jar <command>} would, against real SQLite files. */
class AdminCliTest {
    @TempDir Path dir;
    private final NostrKey alice = NostrKey.generate();
    private final NostrKey bob = NostrKey.generate();
    private final long now = System.currentTimeMillis() / 1000;

    private record Run(int code, String out, String err) {}

    private Run cli(String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(), err = new ByteArrayOutputStream();
        int code = AdminCli.run(args, new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8));
        return new Run(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    private Path config(String name) throws IOException {
        Path toml = dir.resolve(name + ".toml");
        Files.writeString(toml, "[storage]\npath = \"" + dir.resolve(name + ".db").toString().replace("\\", "\\\\") + "\"\n");
        return toml;
    }

    private static SqliteEventStore open(Path db) {
        return new SqliteEventStore(db, "normal", 2, 256, RetentionPolicy.DEFAULT);
    }

    private static WriteResult write(SqliteEventStore store, Event e) {
        return store.write(e).join();
    }

    /** A store with every kind class in it: regular notes, two versions of a profile, an address, a job and a deletion. */
    private List<Event> populate(Path db) {
        List<Event> kept = new ArrayList<>();
        try (SqliteEventStore store = open(db)) {
            for (int i = 0; i < 50; i++) {
                Event note = alice.sign(1, List.of(List.of("t", "n" + i)), "note " + i + " \u00e9\ud83d\ude00", now - 1000 + i);
                assertTrue(write(store, note).accepted());
                kept.add(note);
            }
            Event oldProfile = bob.sign(0, List.of(), "{\"name\":\"old\"}", now - 500);
            Event newProfile = bob.sign(0, List.of(), "{\"name\":\"new\"}", now - 400);
            assertTrue(write(store, oldProfile).accepted());
            assertTrue(write(store, newProfile).accepted());
            kept.add(newProfile);
            Event handler = bob.sign(31990, List.of(List.of("d", "gen"), List.of("k", "5050")), "{}", now - 300);
            assertTrue(write(store, handler).accepted());
            kept.add(handler);
            Event job = alice.sign(5050, List.of(List.of("p", bob.pubkey())), "job", now - 60);
            assertTrue(write(store, job).accepted());
            kept.add(job);
            Event doomed = alice.sign(1, List.of(), "regret", now - 200);
            assertTrue(write(store, doomed).accepted());
            Event deletion = alice.sign(5, List.of(List.of("e", doomed.id())), "", now - 100);
            assertTrue(write(store, deletion).accepted());
            kept.add(deletion);
        }
        return kept;
    }

    private static Set<String> lines(String jsonl) {
        Set<String> out = new HashSet<>();
        for (String line : jsonl.split("\n")) if (!line.isBlank()) out.add(line);
        return out;
    }

    private static Set<String> jsonOf(List<Event> events) {
        Set<String> out = new HashSet<>();
        for (Event e : events) out.add(EventJson.write(e));
        return out;
    }

    @Test
    void exportThenImportIntoAFreshStoreGivesTheSameEvents() throws Exception {
        Path source = config("source"), target = config("target");
        List<Event> kept = populate(dir.resolve("source.db"));
        Path dump = dir.resolve("dump.jsonl");

        Run export = cli("export", "--config", source.toString(), "--out", dump.toString());
        assertEquals(0, export.code(), export.err());
        assertEquals(jsonOf(kept), lines(Files.readString(dump)), "export holds exactly the events the store serves");

        Run imported = cli("import", "--config", target.toString(), dump.toString());
        assertEquals(0, imported.code(), imported.err());
        assertTrue(imported.out().contains("stored=" + kept.size()), imported.out());

        Run reExport = cli("export", "--config", target.toString());
        assertEquals(0, reExport.code(), reExport.err());
        assertEquals(jsonOf(kept), lines(reExport.out()));
    }

    @Test
    void aSqliteRelayMovesToPostgresqlByExportThenImportWithTheRelaysOwnRules() throws Exception {
        Path source = config("source");
        List<Event> kept = populate(dir.resolve("source.db"));
        Path dump = dir.resolve("dump.jsonl.gz");
        assertEquals(0, cli("export", "--config", source.toString(), "--out", dump.toString()).code());
        try (EmbeddedPostgres postgres = EmbeddedPostgres.builder().start()) {
            Path target = dir.resolve("postgres.toml");
            Files.writeString(target, "[storage]\nbackend = \"postgres\"\npostgres_url = \"postgresql://127.0.0.1:"
                    + postgres.getPort() + "/postgres?user=postgres\"\n");
            Run imported = cli("import", "--config", target.toString(), dump.toString());
            assertEquals(0, imported.code(), imported.err());
            assertTrue(imported.out().contains("stored=" + kept.size()), imported.out());
            try (EventStore pg = StoreOptions.openStore(NexusConfig.load(target), 1)) {
                Set<String> ids = new HashSet<>();
                for (StoredEvent e : pg.query(FilterJson.parse("{}"), 1000, now)) ids.add(e.id());
                Set<String> expected = new HashSet<>();
                for (Event e : kept) expected.add(e.id());
                assertEquals(expected, ids, "PostgreSQL serves exactly what the SQLite relay served");
            }
            Run again = cli("import", "--config", target.toString(), dump.toString());
            assertTrue(again.out().contains("duplicate=" + kept.size()), "a second run stores nothing twice: " + again.out());
        }
    }

    @Test
    void aSqliteRelayMovesToLmdbByExportThenImportExportsTheSameAndTheSqliteOnlyCommandsSaySo() throws Exception {
        Path source = config("source");
        List<Event> kept = populate(dir.resolve("source.db"));
        Path dump = dir.resolve("dump.jsonl");
        assertEquals(0, cli("export", "--config", source.toString(), "--out", dump.toString()).code());
        Path target = dir.resolve("lmdb.toml");
        Files.writeString(target, "[storage]\nbackend = \"lmdb\"\npath = \"" + dir.resolve("lmdb").toString().replace("\\", "\\\\") + "\"\n");
        Run imported = cli("import", "--config", target.toString(), dump.toString());
        assertEquals(0, imported.code(), imported.err());
        assertTrue(imported.out().contains("stored=" + kept.size()), imported.out());
        try (EventStore lmdb = StoreOptions.openStore(NexusConfig.load(target), 1)) {
            Set<String> ids = new HashSet<>();
            for (StoredEvent e : lmdb.query(FilterJson.parse("{}"), 1000, now)) ids.add(e.id());
            Set<String> expected = new HashSet<>();
            for (Event e : kept) expected.add(e.id());
            assertEquals(expected, ids, "LMDB serves exactly what the SQLite relay served");
        }
        Run exported = cli("export", "--config", target.toString());
        assertEquals(0, exported.code(), exported.err());
        assertEquals(jsonOf(kept), lines(exported.out()), "LMDB's export holds exactly the events it serves");
        Run stats = cli("stats", "--config", target.toString());
        assertEquals(2, stats.code(), "a usage error, not a SQLite file opened at the LMDB directory");
        assertTrue(stats.err().contains("works on the SQLite store"), stats.err());
    }

    @Test
    void importingTheSameFileAgainSkipsEverythingAsDuplicates() throws Exception {
        Path source = config("source"), target = config("target");
        List<Event> kept = populate(dir.resolve("source.db"));
        Path dump = dir.resolve("dump.jsonl");
        assertEquals(0, cli("export", "-c", source.toString(), "-o", dump.toString()).code());
        assertEquals(0, cli("import", "-c", target.toString(), dump.toString()).code());

        Run again = cli("import", "-c", target.toString(), dump.toString());
        assertEquals(0, again.code(), again.err());
        assertTrue(again.out().contains("stored=0 duplicate=" + kept.size() + " "), again.out());
    }

    @Test
    void importCountsEveryLineByOutcomeAndExitsOneForInvalidLines() throws Exception {
        Path target = config("target");
        Event note = alice.sign(1, "hello");
        Event forged = new Event(note.id(), note.pubkey(), note.createdAt(), note.kind(), note.tags(), note.content(),
                bob.sign(1, "other").sig());
        Event tamperedSource = alice.sign(1, "original");
        String tampered = EventJson.write(tamperedSource).replace("original", "changed");
        Event ephemeral = alice.sign(20001, "now only");
        Event expired = alice.sign(1, List.of(List.of("expiration", Long.toString(now - 10))), "gone", now - 100);
        Event newProfile = alice.sign(0, List.of(), "{\"name\":\"new\"}", now - 10);
        Event oldProfile = alice.sign(0, List.of(), "{\"name\":\"old\"}", now - 20);
        Event regret = alice.sign(1, List.of(), "regret", now - 30);
        Event deletion = alice.sign(5, List.of(List.of("e", regret.id())), "", now - 5);
        List<String> file = List.of(
                EventJson.write(note),            // stored
                EventJson.write(note),            // duplicate
                EventJson.write(forged),          // invalid: bad signature
                tampered,                         // invalid: id does not match
                "{not json",                      // invalid: malformed
                EventJson.write(ephemeral),       // ephemeral
                EventJson.write(expired),         // expired
                EventJson.write(newProfile),      // stored
                EventJson.write(oldProfile),      // duplicate: a newer version is stored
                EventJson.write(deletion),        // stored
                EventJson.write(regret),          // blocked: its author deleted it
                "");
        Path input = dir.resolve("mixed.jsonl");
        Files.writeString(input, String.join("\n", file));

        Run run = cli("import", "-c", target.toString(), input.toString());
        assertEquals(1, run.code(), "invalid lines make the exit code 1");
        assertTrue(run.out().contains("stored=3 duplicate=2 blocked=1 expired=1 ephemeral=1 invalid=3 error=0"), run.out());
        assertTrue(run.err().contains("line 3: invalid: bad signature"), run.err());
        assertTrue(run.err().contains("line 4: invalid:"), run.err());
    }

    @Test
    void noVerifyTrustsSignaturesButStillChecksIds() throws Exception {
        Path target = config("target");
        Event note = alice.sign(1, "hello");
        Event forged = new Event(note.id(), note.pubkey(), note.createdAt(), note.kind(), note.tags(), note.content(),
                bob.sign(1, "other").sig());
        String tampered = EventJson.write(alice.sign(1, "original")).replace("original", "changed");
        Path input = dir.resolve("trusted.jsonl");
        Files.writeString(input, EventJson.write(forged) + "\n" + tampered + "\n");

        Run run = cli("import", "--no-verify", "-c", target.toString(), input.toString());
        assertEquals(1, run.code());
        assertTrue(run.out().contains("stored=1 ") && run.out().contains("invalid=1 "), run.out());
    }

    @Test
    void gzipExportImportsBack() throws Exception {
        Path source = config("source"), target = config("target");
        List<Event> kept = populate(dir.resolve("source.db"));
        Path dump = dir.resolve("dump.jsonl.gz");
        assertEquals(0, cli("export", "-c", source.toString(), "-o", dump.toString()).code());
        try (InputStream in = new GZIPInputStream(Files.newInputStream(dump))) {
            assertEquals(jsonOf(kept), lines(new String(in.readAllBytes(), StandardCharsets.UTF_8)), "the .gz file is gzip");
        }
        Run run = cli("import", "-c", target.toString(), dump.toString());
        assertEquals(0, run.code(), run.err());
        assertEquals(jsonOf(kept), lines(cli("export", "-c", target.toString()).out()));
    }

    @Test
    void importedDeletionsKeepTheirEventsFromComingBack() throws Exception {
        Path source = config("source"), target = config("target");
        populate(dir.resolve("source.db"));
        Path dump = dir.resolve("dump.jsonl");
        assertEquals(0, cli("export", "-c", source.toString(), "-o", dump.toString()).code());
        assertEquals(0, cli("import", "-c", target.toString(), dump.toString()).code());
        // The deletion in the dump names an event that is not in it; the target must refuse it too.
        String deletionLine = lines(Files.readString(dump)).stream().filter(l -> l.contains("\"kind\":5,")).findFirst().orElseThrow();
        String deletedId = deletionLine.replaceAll(".*\\[\"e\",\"([0-9a-f]{64})\"\\].*", "$1");
        assertEquals(64, deletedId.length());
        try (SqliteEventStore store = open(dir.resolve("target.db"))) {
            assertFalse(store.contains(deletedId));
        }
    }

    @Test
    void exportFiltersBySinceUntilAndFilterJson() throws Exception {
        Path source = config("source");
        populate(dir.resolve("source.db"));
        Run tagged = cli("export", "-c", source.toString(), "--filter", "{\"kinds\":[1],\"#t\":[\"n7\",\"n8\"]}");
        assertEquals(0, tagged.code(), tagged.err());
        assertEquals(2, lines(tagged.out()).size());
        Run window = cli("export", "-c", source.toString(), "--filter", "{\"kinds\":[1]}", "--since", Long.toString(now - 1000), "--until", Long.toString(now - 991));
        assertEquals(10, lines(window.out()).size(), window.out());
        List<String> ordered = List.of(window.out().split("\n"));
        assertTrue(ordered.get(0).contains("\"note 0 "), "oldest first");
    }

    @Test
    void deleteDryRunCountsAndDeleteRemoves() throws Exception {
        Path source = config("source");
        populate(dir.resolve("source.db"));
        String filter = "{\"kinds\":[1],\"authors\":[\"" + alice.pubkey() + "\"]}";
        Run dry = cli("delete", "-c", source.toString(), "--filter", filter, "--dry-run");
        assertEquals(0, dry.code(), dry.err());
        assertEquals("would delete 50 events", dry.out().trim());
        assertEquals(50, lines(cli("export", "-c", source.toString(), "--filter", filter).out()).size(), "a dry run deletes nothing");

        Run real = cli("delete", "-c", source.toString(), "--filter", filter);
        assertEquals("deleted 50 events", real.out().trim());
        assertEquals("", cli("export", "-c", source.toString(), "--filter", filter).out());
        assertEquals(4, lines(cli("export", "-c", source.toString()).out()).size(), "other events stay");
    }

    @Test
    void statsCountsByKindClassAndCompactKeepsEveryEvent() throws Exception {
        Path source = config("source");
        List<Event> kept = populate(dir.resolve("source.db"));
        Run stats = cli("stats", "-c", source.toString());
        assertEquals(0, stats.code(), stats.err());
        assertTrue(stats.out().contains("events: " + kept.size()), stats.out());
        assertTrue(stats.out().matches("(?s).*regular:\\s+50\n.*replaceable:\\s+1\n.*addressable:\\s+1\n.*job_request:\\s+1\n.*deletion:\\s+1\n.*"), stats.out());
        assertTrue(stats.out().contains("deletion tombstones: 1"), stats.out());

        assertEquals(0, cli("delete", "-c", source.toString(), "--filter", "{\"kinds\":[1]}").code());
        Run compact = cli("compact", "-c", source.toString());
        assertEquals(0, compact.code(), compact.err());
        assertTrue(compact.out().startsWith("compacted "), compact.out());
        assertEquals(4, lines(cli("export", "-c", source.toString()).out()).size());
        assertFalse(Files.exists(dir.resolve("source.db-wal")) && Files.size(dir.resolve("source.db-wal")) > 0, "the WAL is truncated");
    }

    @Test
    void exportAndStatsReadBesideARunningStoreAndSeeWhatItCommitted() throws Exception {
        Path source = config("source");
        try (SqliteEventStore live = open(dir.resolve("source.db"))) {
            Event first = alice.sign(1, "while running");
            assertTrue(write(live, first).accepted());
            assertEquals(Set.of(EventJson.write(first)), lines(cli("export", "-c", source.toString()).out()));
            Event second = alice.sign(1, "still running");
            assertTrue(write(live, second).accepted(), "the store keeps writing while the CLI reads");
            Run stats = cli("stats", "-c", source.toString());
            assertEquals(0, stats.code(), stats.err());
            assertTrue(stats.out().contains("events: 2"), stats.out());
        }
    }

    @Test
    void badArgumentsExitTwo() throws Exception {
        Path source = config("source");
        populate(dir.resolve("source.db"));
        Path bad = dir.resolve("bad.toml");
        Files.writeString(bad, "[storage]\nsynchronous = \"sometimes\"\n");
        assertEquals(2, cli("export", "--frobnicate").code());
        assertEquals(2, cli("export", "-c", source.toString(), "--filter", "{\"kinds\":\"x\"}").code());
        assertEquals(2, cli("export", "-c", source.toString(), "--filter", "not json").code());
        assertEquals(2, cli("export", "-c", source.toString(), "--since", "yesterday").code());
        Run badConfig = cli("stats", "-c", bad.toString());
        assertEquals(2, badConfig.code());
        assertTrue(badConfig.err().contains("[storage].synchronous"), badConfig.err());
        assertEquals(2, cli("import", "-c", source.toString()).code(), "import needs a file");
        assertEquals(2, cli("import", "-c", source.toString(), dir.resolve("missing.jsonl").toString()).code());
        assertEquals(2, cli("delete", "-c", source.toString()).code(), "delete needs a filter");
        assertEquals(2, cli("delete", "-c", source.toString(), "--filter", "{}").code(), "a filter matching everything is refused");
        assertEquals(1, cli("stats", "-c", config("nothing").toString()).code(), "no database is a failure, not a usage error");
    }

    @Test
    void everyCommandHasHelp() {
        for (String command : List.of("export", "import", "delete", "compact", "stats")) {
            Run help = cli(command, "--help");
            assertEquals(0, help.code());
            assertTrue(help.out().contains("Usage: nexus " + command), help.out());
            assertTrue(help.out().contains("Exit codes"), help.out());
        }
    }
}
