package dev.nexus.storage.lmdb;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.nexus.core.Event;
import dev.nexus.core.Filter;
import dev.nexus.core.testing.NostrKey;
import dev.nexus.storage.RetentionPolicy;
import dev.nexus.storage.StoreException;
import dev.nexus.storage.StoredEvent;
import dev.nexus.storage.WriteResult;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.lmdbjava.Env;
import org.lmdbjava.EnvFlags;
import org.lmdbjava.Txn;

/** What the LMDB store adds to the storage contract: its file outlives the process, its plans agree, its limits hold. */
class LmdbEventStoreTest {
    private static final long NOW = System.currentTimeMillis() / 1000;
    @TempDir Path dir;

    private LmdbEventStore open() {
        return new LmdbEventStore(dir.resolve("store"), "normal", 256, RetentionPolicy.DEFAULT);
    }

    private static Filter filter(Set<String> authors, Set<Integer> kinds, Map<String, Set<String>> tags, Long since, Long until) {
        return new Filter(null, authors, kinds, tags, since, until, null);
    }

    private static List<String> ids(List<StoredEvent> events) {
        return events.stream().map(StoredEvent::id).toList();
    }

    @Test
    void eventsOutliveTheStoreAndLaterEventsNeverOverwriteThem() {
        NostrKey key = NostrKey.generate();
        Event first = key.sign(1, List.of(), "first", NOW - 10);
        Event second = key.sign(1, List.of(), "second", NOW - 5);
        try (LmdbEventStore store = open()) {
            assertEquals(WriteResult.STORED, store.write(first).join());
        }
        try (LmdbEventStore store = open()) {
            assertTrue(store.contains(first.id()), "stored before the restart");
            assertEquals(WriteResult.STORED, store.write(second).join());
            assertEquals(List.of(second.id(), first.id()), ids(store.query(filter(Set.of(key.pubkey()), null, Map.of(), null, null), 10, NOW)));
            assertEquals(first.json(), store.query(new Filter(Set.of(first.id()), null, null, null, null, null, null), 1, NOW).get(0).jsonText());
        }
    }

    @Test
    void anEventCarryingTwoOfTheWantedTagValuesIsServedAndCountedOnce() {
        NostrKey key = NostrKey.generate();
        String p1 = NostrKey.generate().pubkey(), p2 = NostrKey.generate().pubkey();
        Event both = key.sign(5050, List.of(List.of("p", p1), List.of("p", p2)), "", NOW - 3);
        Event one = key.sign(5050, List.of(List.of("p", p2)), "", NOW - 2);
        try (LmdbEventStore store = open()) {
            store.write(both).join();
            store.write(one).join();
            Filter f = filter(null, null, Map.of("p", Set.of(p1, p2)), null, null);
            assertEquals(List.of(one.id(), both.id()), ids(store.query(f, 10, NOW)));
            assertEquals(2, store.count(List.of(f), NOW));
            assertEquals(2, store.count(List.of(f, filter(Set.of(key.pubkey()), null, Map.of(), null, null)), NOW));
        }
    }

    @Test
    void authorsWithManyKindsGiveTheSameAnswerFromEitherIndex() {
        NostrKey a = NostrKey.generate(), b = NostrKey.generate();
        List<Event> events = new ArrayList<>();
        for (int i = 0; i < 40; i++) events.add((i % 2 == 0 ? a : b).sign(1000 + i % 5, List.of(), "e" + i, NOW - 100 + i));
        try (LmdbEventStore store = open()) {
            events.forEach(e -> store.write(e).join());
            Set<Integer> fewKinds = Set.of(1001, 1003);
            // 2 authors x 200 kinds is past the pair-cursor bound: the authors index is walked and kinds are checked on each event.
            Set<Integer> manyKinds = IntStream.range(1001, 1201).boxed().filter(k -> k != 1002 && k != 1004).collect(Collectors.toSet());
            List<String> expected = events.stream().filter(e -> e.kind() == 1001 || e.kind() == 1003)
                    .sorted(Comparator.comparingLong(Event::createdAt).reversed()).map(Event::id).toList();
            Set<String> authors = Set.of(a.pubkey(), b.pubkey());
            assertEquals(expected, ids(store.query(filter(authors, fewKinds, Map.of(), null, null), 100, NOW)));
            assertEquals(expected, ids(store.query(filter(authors, manyKinds, Map.of(), null, null), 100, NOW)));
            assertEquals(expected.size(), store.count(List.of(filter(authors, manyKinds, Map.of(), null, null)), NOW));
            long since = events.get(0).createdAt() + 1, until = events.get(0).createdAt() + 30;
            List<String> windowed = events.stream().filter(e -> (e.kind() == 1001 || e.kind() == 1003) && e.createdAt() >= since && e.createdAt() <= until)
                    .sorted(Comparator.comparingLong(Event::createdAt).reversed()).map(Event::id).limit(4).toList();
            assertEquals(windowed, ids(store.query(filter(authors, fewKinds, Map.of(), since, until), 4, NOW)));
        }
    }

    @Test
    void eventsOfOneSecondAcrossSeveralCursorsAreCutAtTheLimitByLowestId() {
        List<NostrKey> keys = List.of(NostrKey.generate(), NostrKey.generate(), NostrKey.generate());
        List<Event> events = new ArrayList<>();
        for (int i = 0; i < 30; i++) events.add(keys.get(i % 3).sign(1, List.of(), "tie " + i, NOW - 50));
        events.add(keys.get(0).sign(1, List.of(), "newer", NOW - 49));
        try (LmdbEventStore store = open()) {
            events.forEach(e -> store.write(e).join());
            Set<String> authors = keys.stream().map(NostrKey::pubkey).collect(Collectors.toSet());
            List<String> ties = events.subList(0, 30).stream().map(Event::id).sorted().toList();
            List<String> expected = new ArrayList<>();
            expected.add(events.get(30).id());
            expected.addAll(ties.subList(0, 9));
            assertEquals(expected, ids(store.query(filter(authors, Set.of(1), Map.of(), null, null), 10, NOW)));
            assertEquals(expected, ids(store.query(filter(null, null, Map.of(), null, null), 10, NOW)), "the time index alone");
        }
    }

    @Test
    void whenTheMapIsFullEventsAreRefusedAndWhatWasAcknowledgedStays() {
        NostrKey key = NostrKey.generate();
        Path storeDir = dir.resolve("small");
        List<String> acknowledged = new ArrayList<>();
        String refusal = null;
        try (LmdbEventStore store = new LmdbEventStore(storeDir, "normal", 256, RetentionPolicy.DEFAULT, 1L << 20, 0)) {
            for (int i = 0; i < 200 && refusal == null; i++) {
                Event e = key.sign(1, List.of(), "x".repeat(20_000) + i, NOW - 1000 + i);
                WriteResult r = store.write(e).join();
                if (r.status() == WriteResult.Status.STORED) acknowledged.add(e.id());
                else refusal = r.message();
            }
        }
        assertTrue(refusal != null && refusal.contains("storage is full"), "refused with: " + refusal);
        assertTrue(acknowledged.size() > 5, "some events fit: " + acknowledged.size());
        try (LmdbEventStore store = new LmdbEventStore(storeDir, "normal", 256, RetentionPolicy.DEFAULT, 64L << 20, 0)) {
            for (String id : acknowledged) assertTrue(store.contains(id), "acknowledged event lost: " + id);
            assertEquals(WriteResult.STORED, store.write(key.sign(1, List.of(), "after the map grew", NOW)).join());
        }
    }

    @Test
    void aQueryPastItsBudgetStopsWithATimeout() {
        NostrKey key = NostrKey.generate();
        try (LmdbEventStore store = new LmdbEventStore(dir.resolve("budget"), "normal", 256, RetentionPolicy.DEFAULT, 1L << 30, 1)) {
            List<CompletableFuture<WriteResult>> writes = new ArrayList<>();
            for (int i = 0; i < 20_000; i++) writes.add(store.write(key.sign(1, List.of(List.of("t", "tag" + i)), "", NOW - 30_000 + i)));
            writes.forEach(CompletableFuture::join);
            // A tag no event has, over the time index of 20,000 events with a second tag checked on each: the budget ends it.
            Filter nothingMatches = filter(null, Set.of(1), Map.of("t", Set.of("tag1", "tag2", "tag3")), null, null);
            StoreException e = assertThrows(StoreException.class, () -> {
                for (int i = 0; i < 50; i++) store.count(List.of(filter(null, null, Map.of(), null, null), nothingMatches), NOW);
            });
            assertEquals(StoreException.Reason.TIMEOUT, e.reason());
        }
    }

    @Test
    void aStoreWrittenWithAnotherLayoutIsRefusedRatherThanMisread() {
        Path storeDir = dir.resolve("other");
        try (LmdbEventStore store = new LmdbEventStore(storeDir, "normal", 256, RetentionPolicy.DEFAULT)) {
            assertTrue(store.sizeOnDiskBytes() > 0);
        }
        try (Env<ByteBuffer> env = Env.create().setMaxDbs(Tables.COUNT).open(storeDir.toFile(), EnvFlags.MDB_NOTLS);
             Txn<ByteBuffer> txn = env.txnWrite()) {
            var meta = env.openDbi(txn, "meta".getBytes(), null, false);
            ByteBuffer key = ByteBuffer.allocateDirect(64).put(Tables.VERSION_KEY.getBytes()).flip();
            meta.put(txn, key, ByteBuffer.allocateDirect(8).putLong(Tables.LAYOUT_VERSION + 1).flip());
            txn.commit();
        }
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> new LmdbEventStore(storeDir, "normal", 256, RetentionPolicy.DEFAULT));
        assertTrue(e.getMessage().contains("layout version"), e.getMessage());
    }

    @Test
    void everyIndexEntryOfAReplacedEventIsGone() {
        NostrKey key = NostrKey.generate();
        String p = NostrKey.generate().pubkey();
        Event v1 = key.sign(30023, List.of(List.of("d", "article"), List.of("p", p), List.of("t", "x")), "v1", NOW - 20);
        Event v2 = key.sign(30023, List.of(List.of("d", "article")), "v2", NOW - 10);
        try (LmdbEventStore store = open()) {
            store.write(v1).join();
            store.write(v2).join();
            Set<String> seen = new HashSet<>();
            for (Filter f : List.of(filter(null, null, Map.of("p", Set.of(p)), null, null), filter(null, null, Map.of("t", Set.of("x")), null, null),
                    filter(Set.of(key.pubkey()), null, Map.of(), null, null), filter(null, Set.of(30023), Map.of(), null, null),
                    filter(Set.of(key.pubkey()), Set.of(30023), Map.of(), null, null), filter(null, null, Map.of(), null, null))) {
                seen.addAll(ids(store.query(f, 10, NOW)));
            }
            assertEquals(Set.of(v2.id()), seen);
            assertEquals(0, store.count(List.of(filter(null, null, Map.of("p", Set.of(p)), null, null)), NOW));
        }
    }

    @Test
    void anEventFromTheFarPastIsServedLastNotFirst() {
        NostrKey a = NostrKey.generate(), b = NostrKey.generate();
        Event ancient = a.sign(1, List.of(), "the smallest created_at there is", Long.MIN_VALUE);
        Event recent = b.sign(1, List.of(), "now", NOW);
        try (LmdbEventStore store = open()) {
            store.write(ancient).join();
            store.write(recent).join();
            assertEquals(List.of(recent.id(), ancient.id()), ids(store.query(filter(Set.of(a.pubkey(), b.pubkey()), null, Map.of(), null, null), 10, NOW)));
            assertEquals(List.of(recent.id()), ids(store.query(filter(Set.of(a.pubkey(), b.pubkey()), null, Map.of(), null, null), 1, NOW)));
            assertEquals(List.of(recent.id(), ancient.id()), ids(store.query(new Filter(Set.of(ancient.id(), recent.id()), null, null, null, null, null, null), 10, NOW)));
        }
    }

    @Test
    void aNegentropyScanWithLimitZeroPassesNothingOnAndALimitKeepsTheNewest() {
        NostrKey key = NostrKey.generate();
        List<Event> events = new ArrayList<>();
        for (int i = 0; i < 5; i++) events.add(key.sign(1, List.of(), "n" + i, NOW - 10 + i));
        try (LmdbEventStore store = open()) {
            events.forEach(e -> store.write(e).join());
            List<String> seen = new ArrayList<>();
            assertEquals(0, store.scanIdsAscending(new Filter(null, Set.of(key.pubkey()), null, null, null, null, 0), NOW, 100, (c, id) -> seen.add(id)));
            assertEquals(3, store.scanIdsAscending(new Filter(null, Set.of(key.pubkey()), null, null, null, null, 3), NOW, 100, (c, id) -> seen.add(id)));
            assertEquals(events.subList(2, 5).stream().map(Event::id).toList(), seen, "the newest three, oldest first");
        }
    }

    @Test
    void aModerationValueLongerThanAnLmdbKeyIsKeptWhole() {
        String description = "a relay for agents ".repeat(60);
        try (LmdbEventStore store = open()) {
            store.moderate(dev.nexus.storage.Moderation.Change.SET, new dev.nexus.storage.Moderation.Entry("relay_description", description, "")).join();
            store.moderate(dev.nexus.storage.Moderation.Change.ADD, new dev.nexus.storage.Moderation.Entry("banned_pubkey", "ab".repeat(32), "spam")).join();
        }
        try (LmdbEventStore store = open()) {
            assertEquals(Set.of(new dev.nexus.storage.Moderation.Entry("relay_description", description, ""),
                    new dev.nexus.storage.Moderation.Entry("banned_pubkey", "ab".repeat(32), "spam")), Set.copyOf(store.moderation()));
        }
    }

    @Test
    void aClosedStoreRefusesReadsInsteadOfTouchingTheClosedMap() {
        LmdbEventStore store = open();
        store.close();
        StoreException e = assertThrows(StoreException.class, () -> store.query(filter(null, null, Map.of(), null, null), 10, NOW));
        assertTrue(e.getMessage().contains("closed"), e.getMessage());
    }
}
