package dev.nexus.storage;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.nexus.core.ClientMessage;
import dev.nexus.core.ClientMessageParser;
import dev.nexus.core.Event;
import dev.nexus.core.Filter;
import dev.nexus.core.ProtocolLimits;
import dev.nexus.core.testing.NostrKey;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SqliteEventStoreTest {
    private static final long NOW = System.currentTimeMillis() / 1000;
    private final NostrKey alice = NostrKey.generate();
    private final NostrKey bob = NostrKey.generate();
    @TempDir Path dir;
    private SqliteEventStore store;

    @BeforeEach
    void open() {
        store = open(RetentionPolicy.DEFAULT);
    }

    private SqliteEventStore open(RetentionPolicy retention) {
        return new SqliteEventStore(dir.resolve("nexus.db"), "normal", 2, 256, retention);
    }

    @AfterEach
    void close() {
        store.close();
    }

    private WriteResult write(Event e) {
        return store.write(e).join();
    }

    private static Filter filter(String json) throws Exception {
        return ((ClientMessage.Subscribe) new ClientMessageParser(ProtocolLimits.DEFAULT).parse("[\"REQ\",\"s\"," + json + "]")).filters().get(0);
    }

    private List<String> ids(String filterJson) throws Exception {
        return store.query(filter(filterJson), 500, NOW).stream().map(StoredEvent::id).toList();
    }

    @Test
    void storedEventsAreReturnedNewestFirstWithTheLowestIdWinningTies() throws Exception {
        Event old = alice.sign(1, List.of(), "old", NOW - 100);
        Event a = alice.sign(1, List.of(), "a", NOW - 10);
        Event b = alice.sign(1, List.of(), "b", NOW - 10);
        Event newest = alice.sign(1, List.of(), "new", NOW - 1);
        for (Event e : List.of(old, a, b, newest)) assertTrue(write(e).accepted());
        String first = a.id().compareTo(b.id()) < 0 ? a.id() : b.id();
        String second = first.equals(a.id()) ? b.id() : a.id();
        assertEquals(List.of(newest.id(), first, second, old.id()), ids("{\"authors\":[\"" + alice.pubkey() + "\"]}"));
        assertEquals(2, store.query(filter("{\"authors\":[\"" + alice.pubkey() + "\"]}"), 2, NOW).size());
        assertEquals(newest.json(), store.query(filter("{\"ids\":[\"" + newest.id() + "\"]}"), 10, NOW).get(0).jsonText());
    }

    /**
     * NIP-01: newest first, the lowest id first on equal created_at, and a limit keeps the first
     * {@code limit} of that order, whichever plan answers (an index by author, by kind, a tag, several
     * authors) and wherever ties fall: inside the page, across its end, or past it.
     */
    @Test
    void everyLimitKeepsTheFirstEventsOfTheNip01OrderWhereverTiesFall() throws Exception {
        List<Event> all = new java.util.ArrayList<>();
        String provider = bob.pubkey();
        long[] seconds = {NOW - 90, NOW - 80, NOW - 80, NOW - 80, NOW - 70, NOW - 60, NOW - 60, NOW - 50, NOW - 50, NOW - 50, NOW - 50, NOW - 40};
        int i = 0;
        for (long second : seconds) {
            NostrKey author = i % 3 == 0 ? bob : alice;
            Event e = author.sign(5050, List.of(List.of("p", provider)), "job " + i++, second);
            assertTrue(write(e).accepted());
            all.add(e);
        }
        java.util.Comparator<Event> nip01 = java.util.Comparator.comparingLong(Event::createdAt).reversed().thenComparing(Event::id);
        for (String json : List.of(
                "{\"authors\":[\"" + alice.pubkey() + "\"]}",
                "{\"kinds\":[5050]}",
                "{\"kinds\":[5050],\"since\":" + (NOW - 85) + "}",
                "{\"#p\":[\"" + provider + "\"]}",
                "{\"authors\":[\"" + alice.pubkey() + "\",\"" + bob.pubkey() + "\"]}",
                "{\"ids\":[" + all.stream().map(e -> "\"" + e.id() + "\"").collect(java.util.stream.Collectors.joining(",")) + "]}")) {
            Filter f = filter(json);
            List<String> expected = all.stream().filter(f::matches).sorted(nip01).map(Event::id).toList();
            for (int limit = 1; limit <= expected.size() + 1; limit++) {
                List<String> got = store.query(f, limit, NOW).stream().map(StoredEvent::id).toList();
                assertEquals(expected.subList(0, Math.min(limit, expected.size())), got, json + " limit " + limit);
            }
        }
    }

    @Test
    void runsOfOneSecondAreOrderedByIdAndNothingElseMoves() {
        String low = "0".repeat(64), mid = "5".repeat(64), high = "f".repeat(64);
        List<StoredEvent> rows = new java.util.ArrayList<>(List.of(
                new StoredEvent(high, 30, new byte[0]), new StoredEvent(mid, 20, new byte[0]), new StoredEvent(high, 20, new byte[0]),
                new StoredEvent(low, 20, new byte[0]), new StoredEvent(low, 10, new byte[0])));
        SqliteQueries.orderTiesById(rows);
        assertEquals(List.of("30 " + high, "20 " + low, "20 " + mid, "20 " + high, "10 " + low),
                rows.stream().map(r -> r.createdAt() + " " + r.id()).toList());
    }

    @Test
    void everyFilterFieldIsAnsweredByTheQuery() throws Exception {
        Event job = alice.sign(5050, List.of(List.of("p", bob.pubkey())), "job", NOW - 50);
        Event note = bob.sign(1, List.of(List.of("t", "nostr")), "note", NOW - 20);
        Event feedback = bob.sign(7000, List.of(List.of("e", job.id()), List.of("p", alice.pubkey()), List.of("status", "processing")), "", NOW - 10);
        for (Event e : List.of(job, note, feedback)) assertTrue(write(e).accepted());
        assertEquals(List.of(job.id()), ids("{\"kinds\":[5050],\"#p\":[\"" + bob.pubkey() + "\"]}"));
        assertEquals(List.of(feedback.id()), ids("{\"kinds\":[6050,7000],\"#e\":[\"" + job.id() + "\"],\"#p\":[\"" + alice.pubkey() + "\"]}"));
        assertEquals(List.of(note.id()), ids("{\"#t\":[\"nostr\"]}"));
        assertEquals(List.of(feedback.id(), note.id()), ids("{\"since\":" + (NOW - 20) + "}"));
        assertEquals(List.of(job.id()), ids("{\"until\":" + (NOW - 21) + "}"));
        assertEquals(List.of(), ids("{\"kinds\":[5050],\"authors\":[\"" + bob.pubkey() + "\"]}"));
    }

    @Test
    void tagQueriesFindOldMatchesBehindManyNewerNonMatches() throws Exception {
        Event target = alice.sign(5050, List.of(List.of("p", bob.pubkey())), "wanted", NOW - 1000);
        write(target);
        for (int i = 0; i < 300; i++) store.write(alice.sign(5050, List.of(List.of("p", alice.pubkey())), "noise " + i, NOW - i));
        write(alice.sign(1, List.of(), "flush", NOW));
        assertEquals(List.of(target.id()), store.query(filter("{\"kinds\":[5050],\"#p\":[\"" + bob.pubkey() + "\"],\"limit\":5}"), 5, NOW)
                .stream().map(StoredEvent::id).toList());
    }

    @Test
    void anEventWithARepeatedTagValueIsReturnedOnce() throws Exception {
        Event twice = alice.sign(5050, List.of(List.of("p", bob.pubkey()), List.of("p", bob.pubkey()), List.of("e", "a".repeat(64))), "x", NOW);
        write(twice);
        assertEquals(List.of(twice.id()), ids("{\"#p\":[\"" + bob.pubkey() + "\"]}"));
        assertEquals(List.of(twice.id()), ids("{\"#p\":[\"" + bob.pubkey() + "\",\"" + alice.pubkey() + "\"]}"));
        assertEquals(List.of(twice.id()), ids("{\"#e\":[\"" + "a".repeat(64) + "\"],\"#p\":[\"" + bob.pubkey() + "\"]}"));
        assertEquals(List.of(), ids("{\"#e\":[\"" + "a".repeat(64) + "\"],\"#p\":[\"" + alice.pubkey() + "\"]}"));
    }

    @Test
    void aWriteWaitsForAnotherConnectionsWriteLockInsteadOfFailing() throws Exception {
        assertTrue(write(alice.sign(1, "before the lock")).accepted());
        Event e = alice.sign(1, "while an admin command holds the lock");
        try (Connection other = DriverManager.getConnection("jdbc:sqlite:" + dir.resolve("nexus.db"));
             Statement lock = other.createStatement()) {
            lock.execute("BEGIN IMMEDIATE");
            CompletableFuture<WriteResult> pending = store.write(e);
            Thread.sleep(300);
            assertFalse(pending.isDone(), "answered while the lock was held: " + (pending.isDone() ? pending.join() : ""));
            lock.execute("ROLLBACK");
            assertEquals(WriteResult.Status.STORED, pending.get(10, TimeUnit.SECONDS).status());
        }
        assertEquals(List.of(e.id()), ids("{\"ids\":[\"" + e.id() + "\"]}"));
    }

    @Test
    void jobTrafficQueuedBehindOrdinaryEventsIsCommittedFirst() throws Exception {
        store.close();
        store = new SqliteEventStore(dir.resolve("lanes.db"), "normal", 2, 1, RetentionPolicy.DEFAULT);
        List<String> committed = new CopyOnWriteArrayList<>();
        List<String> names = List.of("note-0", "note-1", "note-2", "job", "note-3");
        // Signed before the lock is taken: on a loaded machine signing inside the window could outlast
        // the writer's busy timeout, and a write that gives up would let the next note through first.
        List<Event> events = new ArrayList<>();
        for (String name : names) {
            events.add(name.equals("job") ? alice.sign(5050, List.of(List.of("p", bob.pubkey())), "{}") : alice.sign(1, name));
        }
        try (Connection other = DriverManager.getConnection("jdbc:sqlite:" + dir.resolve("lanes.db"));
             Statement lock = other.createStatement()) {
            // Another writer holds the database, so the relay's writer stalls and its queue fills up.
            lock.execute("BEGIN IMMEDIATE");
            List<CompletableFuture<WriteResult>> pending = new ArrayList<>();
            for (int i = 0; i < names.size(); i++) {
                String name = names.get(i);
                pending.add(store.write(events.get(i)).whenComplete((r, err) -> committed.add(name + (r != null && r.accepted() ? "" : ":" + r))));
            }
            lock.execute("ROLLBACK");
            pending.forEach(CompletableFuture::join);
        }
        // The writer may already have taken note-0 when the lock stopped it; the job overtakes the rest.
        List<String> afterFirst = committed.get(0).equals("note-0") ? committed.subList(1, 5) : committed;
        assertEquals("job", afterFirst.get(0), committed.toString());
        assertEquals(List.of("note-1", "note-2", "note-3"), committed.stream().filter(n -> !n.equals("job") && !n.equals("note-0")).toList());
    }

    /**
     * A job taken into a batch in mid-write, whose write then meets another connection's write lock,
     * is retried ahead of a job that arrived during the wait: jobs are stored in the order they came.
     * The batch's first two events were deleted by their author beforehand (they read, write nothing:
     * a duplicate would not do, its insert takes the write lock), so the write lock is
     * first wanted by the job, and the admin connection takes it just before. SQLite refuses that
     * insert at once, without its busy handler, because the writer's transaction has already read;
     * the lock is released by the hook on the writer thread when the retry starts.
     */
    @Test
    void aJobTakenInBeforeABusyRetryStaysAheadOfAJobThatArrivesDuringTheWait() throws Exception {
        Event deleted1 = alice.sign(1, "deleted before it came");
        Event deleted2 = alice.sign(1, "also deleted before it came");
        Event note = alice.sign(1, "new note behind the deleted ones");
        Event gate = alice.sign(1, "holds the writer while the batch is queued");
        Event firstJob = alice.sign(5050, List.of(List.of("p", bob.pubkey())), "first job");
        Event secondJob = alice.sign(5050, List.of(List.of("p", bob.pubkey())), "second job");
        assertTrue(write(alice.sign(5, List.of(List.of("e", deleted1.id()), List.of("e", deleted2.id())), "")).accepted());

        CountDownLatch held = new CountDownLatch(1), release = new CountDownLatch(1);
        List<CompletableFuture<WriteResult>> jobs = new CopyOnWriteArrayList<>();
        AtomicInteger firstJobAttempts = new AtomicInteger();
        try (Connection admin = DriverManager.getConnection("jdbc:sqlite:" + dir.resolve("nexus.db"));
             Statement lock = admin.createStatement()) {
            AtomicBoolean locked = new AtomicBoolean();
            store.beforeStore = e -> {
                try {
                    if (e.id().equals(gate.id())) {
                        held.countDown();
                        release.await(10, TimeUnit.SECONDS);
                    } else if (e.id().equals(deleted2.id()) && jobs.isEmpty()) {
                        jobs.add(store.write(firstJob)); // arrives mid-batch: taken in before the next ordinary event
                    } else if (e.id().equals(firstJob.id()) && firstJobAttempts.incrementAndGet() == 1) {
                        lock.execute("BEGIN IMMEDIATE"); // an admin command takes the write lock just before the job's insert
                        locked.set(true);
                        jobs.add(store.write(secondJob)); // arrives while the writer waits for the lock
                    } else if (locked.getAndSet(false)) {
                        lock.execute("ROLLBACK"); // the retry's first event: the lock is free again
                    }
                } catch (Exception failed) {
                    throw new IllegalStateException(failed);
                }
            };
            CompletableFuture<WriteResult> gateWrite = store.write(gate);
            assertTrue(held.await(10, TimeUnit.SECONDS));
            List<CompletableFuture<WriteResult>> batch = List.of(store.write(deleted1), store.write(deleted2), store.write(note));
            release.countDown();
            assertTrue(gateWrite.get(10, TimeUnit.SECONDS).accepted());
            assertEquals(List.of(WriteResult.Status.BLOCKED, WriteResult.Status.BLOCKED, WriteResult.Status.STORED),
                    batch.stream().map(w -> w.join().status()).toList());
            for (CompletableFuture<WriteResult> job : jobs) assertEquals(WriteResult.Status.STORED, job.get(10, TimeUnit.SECONDS).status());
        }
        assertEquals(2, jobs.size());
        assertEquals(2, firstJobAttempts.get(), "the first job's insert met the lock once and was retried");
        List<String> jobsInStoreOrder = new ArrayList<>();
        try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + dir.resolve("nexus.db"));
             ResultSet rs = c.createStatement().executeQuery("SELECT id FROM event WHERE kind = 5050 ORDER BY seq")) {
            while (rs.next()) jobsInStoreOrder.add(rs.getString(1));
        }
        assertEquals(List.of(firstJob.id(), secondJob.id()), jobsInStoreOrder, "jobs are stored in the order they arrived");
    }

    @Test
    void countTellsHowManyDistinctUnexpiredEventsMatchAnyFilter() throws Exception {
        for (int i = 0; i < 3; i++) write(alice.sign(1, List.of(), "a" + i, NOW - i));
        write(bob.sign(1, List.of(), "b", NOW));
        write(alice.sign(5050, List.of(List.of("p", bob.pubkey())), "{}", NOW));
        write(alice.sign(1, List.of(List.of("expiration", String.valueOf(NOW + 10))), "soon gone", NOW));
        assertEquals(5, store.count(List.of(filter("{\"kinds\":[1]}")), NOW));
        assertEquals(4, store.count(List.of(filter("{\"kinds\":[1]}")), NOW + 11), "expired events are not counted");
        assertEquals(6, store.count(List.of(filter("{\"authors\":[\"" + alice.pubkey() + "\"]}"), filter("{\"kinds\":[1]}")), NOW),
                "an event matched by two filters is counted once");
        assertEquals(1, store.count(List.of(filter("{\"kinds\":[5050],\"#p\":[\"" + bob.pubkey() + "\"]}")), NOW));
        assertEquals(5, store.count(List.of(filter("{\"kinds\":[1],\"limit\":1}")), NOW), "limit does not cap a count");
        assertEquals(0, store.count(List.of(filter("{\"kinds\":[]}")), NOW));
    }

    @Test
    void aOneFilterCountLeavesOutExpiredEventsTheSweeperHasNotRemovedYet() throws Exception {
        for (int i = 0; i < 3; i++) write(alice.sign(1, List.of(List.of("t", "gpu")), "a" + i, NOW - i));
        write(alice.sign(1, List.of(List.of("t", "gpu"), List.of("expiration", String.valueOf(NOW + 10))), "soon gone", NOW));
        write(bob.sign(5050, List.of(List.of("p", alice.pubkey()), List.of("expiration", String.valueOf(NOW + 10))), "{}", NOW));
        for (String f : List.of("{\"kinds\":[1]}", "{\"authors\":[\"" + alice.pubkey() + "\"]}", "{\"#t\":[\"gpu\"]}",
                "{\"kinds\":[1],\"#t\":[\"gpu\"],\"since\":" + (NOW - 1) + "}")) {
            long before = store.count(List.of(filter(f)), NOW);
            long after = store.count(List.of(filter(f)), NOW + 11);
            assertEquals(1, before - after, f + ": " + before + " before the expiry, " + after + " after");
        }
        assertEquals(1, store.count(List.of(filter("{\"kinds\":[5050]}")), NOW));
        assertEquals(0, store.count(List.of(filter("{\"kinds\":[5050]}")), NOW + 11));
        assertEquals(0, store.count(List.of(filter("{\"kinds\":[5050],\"#p\":[\"" + alice.pubkey() + "\"]}")), NOW + 11));
    }

    @Test
    void countingJobsOfOneKindReadsOnlyIndexesNotRows() throws Exception {
        List<String> plan = store.explainCount(filter("{\"kinds\":[5050]}"), NOW);
        assertTrue(plan.get(0).contains("COVERING INDEX"), "all matches are counted from an index alone: " + plan);
        assertTrue(plan.get(1).contains("event_expires"), "expired matches are found through the expiry index: " + plan);
        assertTrue(plan.stream().noneMatch(step -> step.startsWith("SCAN")), plan.toString());
        List<String> byAuthor = store.explainCount(filter("{\"authors\":[\"" + alice.pubkey() + "\"],\"kinds\":[1]}"), NOW);
        // Since schema 3 no index holds (pubkey, kind) for regular kinds: an author's count reads that
        // author's rows through the author index, never the table or the kind's whole index.
        assertTrue(byAuthor.get(0).contains("event_pubkey_created (pubkey=?)"), byAuthor.toString());
    }

    @Test
    void filtersOfOneShapeReuseOneCompiledStatementAndStillGetTheirOwnAnswers() throws Exception {
        store.close();
        store = new SqliteEventStore(dir.resolve("one-reader.db"), "normal", 1, 256, RetentionPolicy.DEFAULT);
        List<NostrKey> authors = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            NostrKey k = NostrKey.generate();
            authors.add(k);
            for (int j = 0; j <= i; j++) assertTrue(write(k.sign(1, List.of(List.of("t", "tag" + j)), "note " + j, NOW - j)).accepted());
        }
        for (int round = 0; round < 3; round++) {
            for (int i = 0; i < authors.size(); i++) {
                assertEquals(i + 1, ids("{\"authors\":[\"" + authors.get(i).pubkey() + "\"]}").size(), "author " + i + ", round " + round);
                assertEquals(authors.size() - i, ids("{\"#t\":[\"tag" + i + "\"]}").size(), "tag " + i + ", round " + round);
            }
        }
        assertEquals(2, store.cachedReaderStatements(), "two filter shapes, two statements on the one reader");

        for (int n = 1; n <= ReaderStatements.PER_CONNECTION + 20; n++) {
            List<String> many = new ArrayList<>();
            // n distinct values (one real author, the rest nobody's), so each n is a statement of its own
            many.add("\"" + authors.get(4).pubkey() + "\"");
            for (int k = 1; k < n; k++) many.add("\"" + String.format("%064x", k) + "\"");
            assertEquals(5, ids("{\"authors\":[" + String.join(",", many) + "]}").size(), "authors list of " + n);
        }
        assertEquals(ReaderStatements.PER_CONNECTION, store.cachedReaderStatements(), "the cache keeps only the most recently used");
    }

    @Test
    void aDuplicateIsASuccessWithTheDuplicatePrefixAndStoresNothingNew() throws Exception {
        Event e = alice.sign(1, "once");
        assertTrue(write(e).accepted());
        WriteResult again = write(e);
        assertTrue(again.accepted());
        assertEquals(WriteResult.Status.DUPLICATE, again.status());
        assertTrue(again.accepted());
        assertTrue(again.message().startsWith("duplicate:"), again.message());
        assertEquals(List.of(e.id()), ids("{}"));
    }

    @Test
    void draftDvmKindsAboveTheSixteenBitRangeAreStoredIndexedAndRetainedAsJobTraffic() throws Exception {
        store.close();
        store = open(new RetentionPolicy(dev.nexus.core.MarketplaceKinds.DEFAULT, 60, 120, 60));
        Event job = alice.sign(68001, List.of(List.of("j", "speech-to-text")), "job", NOW - 10);
        Event result = bob.sign(68002, List.of(List.of("e", job.id()), List.of("p", alice.pubkey())), "text", NOW - 5);
        Event oldJob = alice.sign(68001, List.of(List.of("j", "speech-to-text")), "stale job", NOW - 61);
        Event big = alice.sign(Integer.MAX_VALUE, List.of(), "largest kind", NOW - 1);
        for (Event e : List.of(job, result, oldJob, big)) assertTrue(write(e).accepted());
        assertEquals(List.of(job.id()), ids("{\"kinds\":[68001],\"#j\":[\"speech-to-text\"]}"));
        assertEquals(List.of(result.id()), ids("{\"kinds\":[68002],\"#e\":[\"" + job.id() + "\"]}"));
        assertEquals(List.of(big.id()), ids("{\"kinds\":[2147483647]}"));
        assertEquals(1, store.deleteExpired(NOW, 10));
        assertFalse(store.contains(oldJob.id()));
    }

    @Test
    void replaceableEventsKeepOnlyTheNewestPerPubkeyAndKind() throws Exception {
        Event v1 = alice.sign(0, List.of(), "{\"name\":\"v1\"}", NOW - 10);
        Event v2 = alice.sign(0, List.of(), "{\"name\":\"v2\"}", NOW - 5);
        Event other = bob.sign(0, List.of(), "{\"name\":\"bob\"}", NOW - 20);
        assertTrue(write(v1).accepted());
        assertTrue(write(v2).accepted());
        assertTrue(write(other).accepted());
        assertEquals(List.of(v2.id()), ids("{\"kinds\":[0],\"authors\":[\"" + alice.pubkey() + "\"]}"));
        WriteResult stale = write(alice.sign(0, List.of(), "{\"name\":\"stale\"}", NOW - 7));
        assertFalse(stale.accepted());
        assertTrue(stale.message().startsWith("duplicate:"), stale.message());
        assertEquals(WriteResult.Status.REJECTED_OLDER, stale.status());
        assertEquals(List.of(v2.id()), ids("{\"kinds\":[0],\"authors\":[\"" + alice.pubkey() + "\"]}"));
    }

    @Test
    void onEqualCreatedAtTheLowestIdWins() throws Exception {
        Event x = alice.sign(10002, List.of(), "x", NOW);
        Event y = alice.sign(10002, List.of(), "y", NOW);
        Event low = x.id().compareTo(y.id()) < 0 ? x : y;
        Event high = low == x ? y : x;
        assertTrue(write(high).accepted());
        assertTrue(write(low).accepted());
        assertFalse(write(alice.sign(10002, List.of(), "z", NOW - 1)).accepted());
        assertEquals(List.of(low.id()), ids("{\"kinds\":[10002]}"));
        SqliteEventStore s = store;
        Event fresh = alice.sign(10003, List.of(), "a", NOW);
        assertTrue(write(fresh).accepted());
        // the higher id arriving second loses the tie
        Event rival = alice.sign(10003, List.of(), "b", NOW);
        WriteResult r = write(rival);
        assertEquals(rival.id().compareTo(fresh.id()) < 0, r.accepted());
        assertEquals(1, s.query(filter("{\"kinds\":[10003]}"), 10, NOW).size());
    }

    @Test
    void addressableEventsKeepTheNewestPerDTag() throws Exception {
        Event a1 = alice.sign(31990, List.of(List.of("d", "svc-a"), List.of("k", "5050")), "a1", NOW - 10);
        Event b1 = alice.sign(31990, List.of(List.of("d", "svc-b"), List.of("k", "5100")), "b1", NOW - 10);
        Event a2 = alice.sign(31990, List.of(List.of("d", "svc-a"), List.of("k", "5050"), List.of("k", "5100")), "a2", NOW - 5);
        for (Event e : List.of(a1, b1, a2)) assertTrue(write(e).accepted());
        assertEquals(List.of(a2.id(), b1.id()).stream().sorted().toList(), ids("{\"kinds\":[31990]}").stream().sorted().toList());
        assertEquals(List.of(a2.id()), ids("{\"kinds\":[31990],\"#k\":[\"5050\"]}"));
        assertEquals(List.of(a2.id(), b1.id()), ids("{\"kinds\":[31990],\"#k\":[\"5100\"]}"));
    }

    @Test
    void aDeletionRemovesOnlyTheDeletersOwnEventsAndTheyCannotComeBack() throws Exception {
        Event mine = alice.sign(5050, List.of(), "my job", NOW - 10);
        Event theirs = bob.sign(1, List.of(), "bob's", NOW - 10);
        write(mine);
        write(theirs);
        Event deletion = alice.sign(5, List.of(List.of("e", mine.id()), List.of("e", theirs.id()), List.of("k", "5050")), "cancel", NOW);
        assertTrue(write(deletion).accepted());
        assertEquals(List.of(), ids("{\"ids\":[\"" + mine.id() + "\"]}"));
        assertEquals(List.of(theirs.id()), ids("{\"ids\":[\"" + theirs.id() + "\"]}"));
        assertEquals(List.of(deletion.id()), ids("{\"kinds\":[5]}"));
        store.close();
        store = open(RetentionPolicy.DEFAULT);
        WriteResult again = write(mine);
        assertFalse(again.accepted());
        assertTrue(again.message().startsWith("blocked:"), again.message());
        assertEquals(WriteResult.Status.BLOCKED, again.status());
    }

    @Test
    void anATagDeletionRemovesTheAddressUpToTheDeletionsTime() throws Exception {
        Event handler = alice.sign(31990, List.of(List.of("d", "svc"), List.of("k", "5050")), "h", NOW - 10);
        write(handler);
        Event deletion = alice.sign(5, List.of(List.of("a", "31990:" + alice.pubkey() + ":svc")), "", NOW - 5);
        assertTrue(write(deletion).accepted());
        assertEquals(List.of(), ids("{\"kinds\":[31990]}"));
        assertFalse(write(alice.sign(31990, List.of(List.of("d", "svc")), "older", NOW - 6)).accepted());
        Event newer = alice.sign(31990, List.of(List.of("d", "svc")), "newer", NOW);
        assertTrue(write(newer).accepted());
        assertEquals(List.of(newer.id()), ids("{\"kinds\":[31990]}"));
    }

    @Test
    void expiredEventsAreNotReturnedAndAreSweptInBatches() throws Exception {
        store.close();
        store = open(new RetentionPolicy(dev.nexus.core.MarketplaceKinds.DEFAULT, 60, 120, 60));
        Event oldJob = alice.sign(5050, List.of(), "old job", NOW - 61);
        Event freshJob = alice.sign(5050, List.of(), "fresh job", NOW - 10);
        Event oldResult = alice.sign(6050, List.of(List.of("e", freshJob.id())), "result", NOW - 100);
        Event tagged = alice.sign(1, List.of(List.of("expiration", String.valueOf(NOW - 1))), "expiring note", NOW - 30);
        Event keeper = alice.sign(1, List.of(), "kept", NOW - 1000);
        for (Event e : List.of(oldJob, freshJob, oldResult, tagged, keeper)) assertTrue(write(e).accepted());
        assertEquals(List.of(freshJob.id(), oldResult.id(), keeper.id()), ids("{}"));
        assertEquals(1, store.deleteExpired(NOW, 1));
        assertEquals(1, store.deleteExpired(NOW, 5));
        assertEquals(0, store.deleteExpired(NOW, 5));
        assertTrue(store.contains(freshJob.id()));
        assertFalse(store.contains(oldJob.id()));
        assertFalse(store.contains(tagged.id()));
    }

    @Test
    void anAcknowledgedWriteIsVisibleToAnotherConnectionAndSurvivesReopening() throws Exception {
        Event e = alice.sign(1, "durable");
        assertTrue(write(e).accepted());
        try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + dir.resolve("nexus.db"));
             ResultSet rs = c.createStatement().executeQuery("SELECT raw FROM event WHERE id = '" + e.id() + "'")) {
            assertTrue(rs.next());
            assertEquals(e.json(), rs.getString(1));
        }
        store.close();
        store = open(RetentionPolicy.DEFAULT);
        assertEquals(List.of(e.id()), ids("{\"ids\":[\"" + e.id() + "\"]}"));
    }

    /** A plan step that walks a whole table or index (SQLite names the alias: "SCAN e", "SCAN t USING ..."). */
    private static boolean scansATable(String step) {
        return step.matches("SCAN (e|t|x|event|tag)\\b.*");
    }

    @Test
    void theMarketplaceQueriesAreIndexLookups() throws Exception {
        write(alice.sign(5050, List.of(List.of("p", bob.pubkey())), "job", NOW));
        String job = "0".repeat(64);
        for (String f : List.of(
                "{\"kinds\":[6050,7000],\"#e\":[\"" + job + "\"],\"#p\":[\"" + bob.pubkey() + "\"]}",
                "{\"kinds\":[5050],\"since\":" + NOW + "}",
                "{\"kinds\":[5050],\"#p\":[\"" + bob.pubkey() + "\"]}",
                "{\"kinds\":[31990],\"#k\":[\"5050\"]}",
                "{\"authors\":[\"" + alice.pubkey() + "\"]}",
                "{\"ids\":[\"" + job + "\"]}")) {
            List<String> plan = store.explain(filter(f), 100, NOW);
            assertTrue(plan.stream().noneMatch(SqliteEventStoreTest::scansATable), f + " -> " + plan);
            assertTrue(plan.stream().anyMatch(step -> step.contains("USING")), f + " -> " + plan);
            // The second statement, for the events of the second where ties straddle the limit.
            List<String> oneSecond = store.explainOneSecond(filter(f), NOW, 10, NOW);
            assertTrue(oneSecond.stream().noneMatch(SqliteEventStoreTest::scansATable), f + " -> " + oneSecond);
        }
        List<String> outcome = store.explain(filter("{\"kinds\":[6050,7000],\"#e\":[\"" + job + "\"],\"#p\":[\"" + bob.pubkey() + "\"]}"), 100, NOW);
        assertTrue(outcome.stream().anyMatch(step -> step.startsWith("SEARCH t USING PRIMARY KEY (name=? AND value=?")), "driven by the #e tag's key: " + outcome);
        assertTrue(outcome.stream().anyMatch(step -> step.contains("USING PRIMARY KEY (name=? AND value=? AND kind=? AND created_at=? AND event_seq=?)")),
                "the #p condition is a point lookup of the whole tag key: " + outcome);
        List<String> jobsSince = store.explain(filter("{\"kinds\":[5050],\"since\":" + NOW + "}"), 100, NOW);
        assertTrue(jobsSince.stream().anyMatch(step -> step.contains("event_kind_created")), jobsSince.toString());
        List<String> profile = store.explain(filter("{\"authors\":[\"" + alice.pubkey() + "\"],\"kinds\":[0]}"), 1, NOW);
        assertTrue(profile.stream().anyMatch(step -> step.contains("event_address")), "a profile lookup uses the replaceable index: " + profile);
    }

    @Test
    void aVersionTwoFileIsUpgradedToTheNarrowIndexesAndKeepsAnsweringTheSameQueries() throws Exception {
        Event note = alice.sign(1, List.of(List.of("t", "gpu")), "note", NOW - 5);
        Event profile = alice.sign(0, List.of(), "{\"name\":\"alice\"}", NOW - 5);
        Event handler = alice.sign(31990, List.of(List.of("d", "h1"), List.of("k", "5050")), "handler", NOW - 5);
        for (Event e : List.of(note, profile, handler)) assertTrue(write(e).accepted());
        reopenAsVersion(2,
                "DROP INDEX event_created", "DROP INDEX event_kind_created", "DROP INDEX event_pubkey_created", "DROP INDEX event_address",
                "CREATE INDEX event_created ON event(created_at DESC, id)",
                "CREATE INDEX event_kind_created ON event(kind, created_at DESC, id)",
                "CREATE INDEX event_pubkey_created ON event(pubkey, created_at DESC, id)",
                "CREATE INDEX event_pubkey_kind ON event(pubkey, kind, d_tag, created_at DESC)",
                "CREATE INDEX event_marketplace ON event(kind, created_at DESC, id) WHERE kind >= 5000 AND kind <= 7000");
        try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + dir.resolve("nexus.db")); Statement s = c.createStatement()) {
            try (ResultSet rs = s.executeQuery("PRAGMA user_version")) {
                assertEquals(SqliteSchema.VERSION, rs.getInt(1));
            }
            List<String> indexes = new java.util.ArrayList<>();
            try (ResultSet rs = s.executeQuery("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'event' AND sql IS NOT NULL ORDER BY name")) {
                while (rs.next()) indexes.add(rs.getString(1));
            }
            assertEquals(List.of("event_address", "event_created", "event_expires", "event_kind_created", "event_pubkey_created"), indexes);
        }
        assertEquals(List.of(handler.id(), profile.id(), note.id()).stream().sorted().toList(),
                ids("{\"authors\":[\"" + alice.pubkey() + "\"]}").stream().sorted().toList());
        assertEquals(List.of(profile.id()), ids("{\"authors\":[\"" + alice.pubkey() + "\"],\"kinds\":[0]}"));
        assertEquals(List.of(note.id()), ids("{\"#t\":[\"gpu\"]}"));
        Event newerProfile = alice.sign(0, List.of(), "{\"name\":\"alice 2\"}", NOW);
        assertTrue(write(newerProfile).accepted());
        assertEquals(List.of(newerProfile.id()), ids("{\"authors\":[\"" + alice.pubkey() + "\"],\"kinds\":[0]}"),
                "replacement still finds the older version through the upgraded index");
    }

    @Test
    void aVersionThreeFileGetsTheKeyedTagTableAndKeepsItsTags() throws Exception {
        Event note = alice.sign(1, List.of(List.of("t", "gpu"), List.of("p", bob.pubkey())), "note", NOW - 5);
        Event other = alice.sign(1, List.of(List.of("t", "cpu")), "other", NOW - 4);
        for (Event e : List.of(note, other)) assertTrue(write(e).accepted());
        // Back to the version-3 layout: a rowid table with a lookup index and a by-event index.
        reopenAsVersion(3,
                "CREATE TABLE tag_v3 (event_seq INTEGER NOT NULL, name TEXT NOT NULL, value TEXT NOT NULL, kind INTEGER NOT NULL, created_at INTEGER NOT NULL)",
                "INSERT INTO tag_v3 SELECT event_seq, name, value, kind, created_at FROM tag",
                "DROP TABLE tag",
                "ALTER TABLE tag_v3 RENAME TO tag",
                "CREATE INDEX tag_lookup ON tag(name, value, kind, created_at DESC, event_seq)",
                "CREATE INDEX tag_event ON tag(event_seq)");
        try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + dir.resolve("nexus.db")); Statement s = c.createStatement()) {
            try (ResultSet rs = s.executeQuery("SELECT sql FROM sqlite_master WHERE name = 'tag'")) {
                assertTrue(rs.getString(1).contains("WITHOUT ROWID"), rs.getString(1));
            }
            try (ResultSet rs = s.executeQuery("SELECT count(*) FROM sqlite_master WHERE type = 'index' AND tbl_name = 'tag' AND sql IS NOT NULL")) {
                assertEquals(0, rs.getInt(1), "the tag table needs no index besides its key");
            }
        }
        assertEquals(List.of(note.id()), ids("{\"#t\":[\"gpu\"]}"));
        assertEquals(List.of(note.id()), ids("{\"#p\":[\"" + bob.pubkey() + "\"],\"#t\":[\"gpu\",\"cpu\"]}"));
        assertEquals(List.of(other.id()), ids("{\"authors\":[\"" + alice.pubkey() + "\"],\"#t\":[\"cpu\"]}"));
    }

    @Test
    void noTagRowOutlivesItsEventWhateverItsValuesAre() throws Exception {
        // A lone surrogate is valid in a Nostr string; the tag row must still be found and removed with its event.
        Event odd = alice.sign(1, List.of(List.of("t", "lone \ud800 surrogate"), List.of("e", "0".repeat(64)), List.of("t", "plain")), "odd", NOW - 3);
        Event kept = alice.sign(1, List.of(List.of("t", "plain")), "kept", NOW - 2);
        for (Event e : List.of(odd, kept)) assertTrue(write(e).accepted());
        assertEquals(4, tagRows());
        assertTrue(write(alice.sign(5, List.of(List.of("e", odd.id())), "", NOW - 1)).accepted(), "NIP-09 deletion");
        assertEquals(List.of(kept.id()), ids("{\"#t\":[\"plain\"]}"));
        assertEquals(2, tagRows(), "the kept event's tag and the deletion's own e tag are all that is left");
    }

    @Test
    void tagValuesThatTheDriverStoresAlikeDoNotFailTheBatchTheyShare() throws Exception {
        // SQLite's driver stores a lone surrogate as '?': these two tags are one key in the tag table.
        Event odd = alice.sign(1, List.of(List.of("t", "?"), List.of("t", "\ud800")), "odd", NOW - 3);
        List<Event> others = new java.util.ArrayList<>();
        for (int i = 0; i < 20; i++) others.add(bob.sign(1, List.of(List.of("t", "other")), "other " + i, NOW - 3));
        List<java.util.concurrent.CompletableFuture<WriteResult>> writes = new java.util.ArrayList<>();
        for (int i = 0; i < others.size(); i++) {
            if (i == 10) writes.add(store.write(odd));
            writes.add(store.write(others.get(i)));
        }
        for (var w : writes) assertTrue(w.join().accepted(), w.join().toString());
        assertEquals(List.of(odd.id()), ids("{\"#t\":[\"?\"]}"));
        assertTrue(write(alice.sign(5, List.of(List.of("e", odd.id())), "", NOW - 1)).accepted());
        assertEquals(21, tagRows(), "the 20 others' tags and the deletion's e tag");
    }

    @Test
    void deletingEventsRemovesExactlyTheTagRowsTheyWereStoredWith() throws Exception {
        java.util.Random random = new java.util.Random(16);
        String[] names = {"t", "p", "e", "d", "k", "tt", "client", "T", "é"};
        String[] pieces = {"a", "\"", "\\", "\n", "\u0000", "\u001f", "é", "😀", "\ud800", "\udc00", "?", " ", "0".repeat(64)};
        List<Event> doomed = new java.util.ArrayList<>();
        for (int i = 0; i < 60; i++) {
            List<List<String>> tags = new java.util.ArrayList<>();
            for (int t = random.nextInt(6); t > 0; t--) {
                List<String> tag = new java.util.ArrayList<>();
                tag.add(names[random.nextInt(names.length)]);
                for (int v = random.nextInt(3); v >= 0 && random.nextInt(5) > 0; v--) {
                    StringBuilder value = new StringBuilder();
                    for (int c = random.nextInt(4); c >= 0; c--) value.append(pieces[random.nextInt(pieces.length)]);
                    tag.add(value.toString());
                }
                tags.add(tag);
            }
            Event e = alice.sign(1, tags, "random " + i, NOW - 10);
            assertTrue(write(e).accepted(), e.json());
            doomed.add(e);
        }
        Event kept = bob.sign(1, List.of(List.of("t", "kept")), "kept", NOW - 10);
        assertTrue(write(kept).accepted());
        for (Event e : doomed) assertTrue(write(alice.sign(5, List.of(List.of("e", e.id())), "", NOW - 1)).accepted());
        assertEquals(1 + doomed.size(), tagRows(), "only the kept event's tag and each deletion's e tag are left");
    }

    /** Closes the store, turns its file back into an older schema version with {@code sql}, and opens it again (which migrates it). */
    private void reopenAsVersion(int version, String... sql) throws Exception {
        store.close();
        try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + dir.resolve("nexus.db")); Statement s = c.createStatement()) {
            for (String statement : sql) s.execute(statement);
            s.execute("PRAGMA user_version = " + version);
        }
        store = open(RetentionPolicy.DEFAULT);
    }

    private long tagRows() throws Exception {
        try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + dir.resolve("nexus.db")); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT count(*) FROM tag")) {
            return rs.getLong(1);
        }
    }

    @Test
    void aBannedEventIsDeletedRefusedAfterReopeningAndAllowedAgainWhenTheBanIsLifted() throws Exception {
        Event note = alice.sign(1, List.of(), "banned soon", NOW);
        assertTrue(write(note).accepted());
        store.moderate(Moderation.Change.ADD, new Moderation.Entry(Moderation.BANNED_EVENT, note.id(), "illegal")).join();
        assertEquals(List.of(), ids("{\"ids\":[\"" + note.id() + "\"]}"));
        assertEquals(List.of(), ids("{\"authors\":[\"" + alice.pubkey() + "\"]}"));
        store.close();
        store = open(RetentionPolicy.DEFAULT);
        assertEquals(List.of(new Moderation.Entry(Moderation.BANNED_EVENT, note.id(), "illegal")), store.moderation());
        WriteResult again = write(note);
        assertFalse(again.accepted(), again.toString());
        store.moderate(Moderation.Change.REMOVE, new Moderation.Entry(Moderation.BANNED_EVENT, note.id(), "")).join();
        assertTrue(write(note).accepted());
        assertEquals(List.of(note.id()), ids("{\"ids\":[\"" + note.id() + "\"]}"));
    }

    @Test
    void setKeepsOneRowPerCategoryAndAVersionOneFileIsMigrated() throws Exception {
        Event kept = alice.sign(1, List.of(), "from before the upgrade", NOW);
        assertTrue(write(kept).accepted());
        reopenAsVersion(1, "DROP TABLE moderation");
        assertEquals(List.of(kept.id()), ids("{\"ids\":[\"" + kept.id() + "\"]}"));
        store.moderate(Moderation.Change.SET, new Moderation.Entry("relay_name", "First", "")).join();
        store.moderate(Moderation.Change.SET, new Moderation.Entry("relay_name", "Second", "")).join();
        store.moderate(Moderation.Change.ADD, new Moderation.Entry("blocked_ip", "203.0.113.7", "abuse")).join();
        assertEquals(List.of(new Moderation.Entry("blocked_ip", "203.0.113.7", "abuse"), new Moderation.Entry("relay_name", "Second", "")),
                store.moderation());
        try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + dir.resolve("nexus.db")); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("PRAGMA user_version")) {
            assertEquals(SqliteSchema.VERSION, rs.getInt(1));
        }
    }
}
