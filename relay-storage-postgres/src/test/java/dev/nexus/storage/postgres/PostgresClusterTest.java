package dev.nexus.storage.postgres;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.nexus.core.ClientMessage;
import dev.nexus.core.ClientMessageParser;
import dev.nexus.core.Event;
import dev.nexus.core.Filter;
import dev.nexus.core.ProtocolLimits;
import dev.nexus.core.testing.NostrKey;
import dev.nexus.storage.RetentionPolicy;
import dev.nexus.storage.StoredEvent;
import dev.nexus.storage.WriteResult;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Two store instances on one database behave as two relay nodes writing at the same moment. */
class PostgresClusterTest {
    private static final long NOW = System.currentTimeMillis() / 1000;
    private final String url = TestPostgres.freshDatabase();
    private final List<PostgresEventStore> nodes = new ArrayList<>();

    private PostgresEventStore node() {
        PostgresEventStore s = new PostgresEventStore(url, 2, 256, RetentionPolicy.DEFAULT);
        nodes.add(s);
        return s;
    }

    @AfterEach
    void close() {
        nodes.forEach(PostgresEventStore::close);
    }

    private static Filter filter(String json) throws Exception {
        return ((ClientMessage.Subscribe) new ClientMessageParser(ProtocolLimits.DEFAULT).parse("[\"REQ\",\"s\"," + json + "]")).filters().get(0);
    }

    private static List<String> ids(PostgresEventStore s, String filterJson) throws Exception {
        return s.query(filter(filterJson), 500, NOW).stream().map(StoredEvent::id).toList();
    }

    @Test
    void nodesStartingTogetherMigrateTheSchemaOnce() throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(3);
        try {
            List<Future<PostgresEventStore>> opening = new ArrayList<>();
            for (int i = 0; i < 3; i++) opening.add(pool.submit(() -> new PostgresEventStore(url, 1, 16, RetentionPolicy.DEFAULT)));
            for (Future<PostgresEventStore> f : opening) nodes.add(f.get());
        } finally {
            pool.shutdown();
        }
        try (Connection c = TestPostgres.connect(url); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT count(*), max(version) FROM nexus_schema")) {
            rs.next();
            assertEquals(PostgresSchema.VERSION, rs.getInt(1), "each migration step recorded once");
            assertEquals(PostgresSchema.VERSION, rs.getInt(2));
        }
        Event e = NostrKey.generate().sign(1, "hello");
        assertTrue(nodes.get(0).write(e).join().accepted());
        assertEquals(List.of(e.id()), ids(nodes.get(2), "{\"ids\":[\"" + e.id() + "\"]}"));
    }

    @Test
    void whenTwoNodesWriteTheSameAddressAtOnceTheNewestThenLowestIdWinsAndOnlyItIsStored() throws Exception {
        PostgresEventStore a = node(), b = node();
        NostrKey provider = NostrKey.generate();
        List<Event[]> rivals = new ArrayList<>();
        List<CompletableFuture<WriteResult>> results = new ArrayList<>();
        for (int round = 0; round < 60; round++) {
            String d = "svc-" + round;
            // Even rounds tie on created_at (the lowest id must win); odd rounds differ by a second.
            Event x = provider.sign(31990, List.of(List.of("d", d), List.of("k", "5050")), "x" + round, NOW);
            Event y = provider.sign(31990, List.of(List.of("d", d), List.of("k", "5050")), "y" + round, round % 2 == 0 ? NOW : NOW - 1);
            rivals.add(new Event[] {x, y});
            // Both nodes get each rival, in opposite orders, so every pairing meets in flight.
            results.add(a.write(x));
            results.add(b.write(y));
            results.add(a.write(y));
            results.add(b.write(x));
        }
        results.forEach(CompletableFuture::join);
        for (int round = 0; round < rivals.size(); round++) {
            Event x = rivals.get(round)[0], y = rivals.get(round)[1];
            Event winner = x.createdAt() != y.createdAt() ? (x.createdAt() > y.createdAt() ? x : y) : (x.id().compareTo(y.id()) < 0 ? x : y);
            String f = "{\"kinds\":[31990],\"authors\":[\"" + provider.pubkey() + "\"],\"#d\":[\"svc-" + round + "\"]}";
            assertEquals(List.of(winner.id()), ids(a, f), "round " + round);
            assertEquals(List.of(winner.id()), ids(b, f), "round " + round);
        }
        for (CompletableFuture<WriteResult> r : results) {
            WriteResult w = r.join();
            assertTrue(w.accepted() || w.message().startsWith("duplicate:"), w.message());
        }
    }

    @Test
    void replaceableKindsRaceAcrossNodesToOneWinnerPerAuthor() throws Exception {
        PostgresEventStore a = node(), b = node();
        List<NostrKey> authors = new ArrayList<>();
        List<CompletableFuture<WriteResult>> pending = new ArrayList<>();
        List<Event> expected = new ArrayList<>();
        for (int i = 0; i < 40; i++) {
            NostrKey k = NostrKey.generate();
            authors.add(k);
            Event older = k.sign(0, List.of(), "{\"name\":\"old\"}", NOW - 5);
            Event newer = k.sign(0, List.of(), "{\"name\":\"new\"}", NOW);
            expected.add(newer);
            // The older version reaches node A as the newer one reaches node B.
            pending.add(a.write(older));
            pending.add(b.write(newer));
        }
        pending.forEach(CompletableFuture::join);
        for (int i = 0; i < authors.size(); i++) {
            assertEquals(List.of(expected.get(i).id()), ids(a, "{\"kinds\":[0],\"authors\":[\"" + authors.get(i).pubkey() + "\"]}"));
        }
    }

    @Test
    void theSameEventSentToTwoNodesAtOnceIsStoredOnceAndTheOtherNodeAnswersDuplicate() throws Exception {
        PostgresEventStore a = node(), b = node();
        NostrKey k = NostrKey.generate();
        for (int i = 0; i < 50; i++) {
            Event e = k.sign(1, "twice " + i);
            CompletableFuture<WriteResult> ra = a.write(e), rb = b.write(e);
            WriteResult wa = ra.join(), wb = rb.join();
            // Both succeed (NIP-01: a duplicate is not a failure), but exactly one stored it.
            assertTrue(wa.accepted() && wb.accepted(), wa + " / " + wb);
            assertTrue(wa.alreadyStored() ^ wb.alreadyStored(), wa + " / " + wb);
            assertTrue((wa.alreadyStored() ? wa : wb).message().startsWith("duplicate:"));
            assertEquals(List.of(e.id()), ids(a, "{\"ids\":[\"" + e.id() + "\"]}"));
        }
    }

    @Test
    void aDeletionOnOneNodeRacingThePublicationOnAnotherLeavesTheEventDeletedEverywhere() throws Exception {
        PostgresEventStore a = node(), b = node();
        NostrKey author = NostrKey.generate();
        List<Event> targets = new ArrayList<>();
        List<CompletableFuture<WriteResult>> publications = new ArrayList<>();
        for (int i = 0; i < 60; i++) {
            Event job = author.sign(5050, List.of(), "job " + i, NOW - 10);
            Event cancel = author.sign(5, List.of(List.of("e", job.id())), "cancel", NOW);
            targets.add(job);
            a.write(cancel);
            publications.add(b.write(job));
        }
        for (CompletableFuture<WriteResult> p : publications) {
            WriteResult w = p.join();
            // Either the tombstone came first ("blocked:") or the event was stored and then deleted.
            assertTrue(w.accepted() || w.message().startsWith("blocked:"), w.message());
        }
        a.write(author.sign(1, "flush")).join();
        for (Event job : targets) {
            assertFalse(a.contains(job.id()), job.id());
            WriteResult again = b.write(job).join();
            assertTrue(again.message().startsWith("blocked:"), again.message());
        }
        assertEquals(List.of(), ids(b, "{\"kinds\":[5050],\"authors\":[\"" + author.pubkey() + "\"]}"));
    }

    @Test
    void anAddressDeletedOnOneNodeIsRefusedOnTheOther() throws Exception {
        PostgresEventStore a = node(), b = node();
        NostrKey provider = NostrKey.generate();
        Event handler = provider.sign(31990, List.of(List.of("d", "svc")), "h", NOW - 10);
        assertTrue(b.write(handler).join().accepted());
        assertTrue(a.write(provider.sign(5, List.of(List.of("a", "31990:" + provider.pubkey() + ":svc")), "", NOW - 5)).join().accepted());
        assertEquals(List.of(), ids(b, "{\"kinds\":[31990]}"));
        WriteResult old = b.write(provider.sign(31990, List.of(List.of("d", "svc")), "older", NOW - 6)).join();
        assertTrue(old.message().startsWith("blocked:"), old.message());
    }

    @Test
    void expirySweepsFromSeveralNodesShareTheWorkWithoutCollidingOrCountingTwice() throws Exception {
        PostgresEventStore a = node(), b = node();
        NostrKey k = NostrKey.generate();
        List<CompletableFuture<WriteResult>> pending = new ArrayList<>();
        for (int i = 0; i < 400; i++) pending.add(a.write(k.sign(1, List.of(List.of("expiration", String.valueOf(NOW + 5))), "gone " + i, NOW)));
        Event kept = k.sign(1, "kept");
        pending.add(b.write(kept));
        pending.forEach(CompletableFuture::join);
        CountDownLatch go = new CountDownLatch(1);
        ExecutorService sweepers = Executors.newFixedThreadPool(2);
        try {
            List<Future<Integer>> swept = new ArrayList<>();
            for (PostgresEventStore node : List.of(a, b)) {
                swept.add(sweepers.submit(() -> {
                    go.await();
                    int total = 0, n;
                    while ((n = node.deleteExpired(NOW + 10, 25)) > 0) total += n;
                    return total;
                }));
            }
            go.countDown();
            assertEquals(400, swept.get(0).get() + swept.get(1).get());
        } finally {
            sweepers.shutdown();
        }
        assertEquals(1, a.count(List.of(filter("{\"authors\":[\"" + k.pubkey() + "\"]}")), NOW));
        try (Connection c = TestPostgres.connect(url); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT count(*) FROM tag t LEFT JOIN event e ON e.seq = t.event_seq WHERE e.seq IS NULL")) {
            rs.next();
            assertEquals(0, rs.getInt(1), "no tag rows outlive their event");
        }
    }
}
