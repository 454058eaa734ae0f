package dev.nexus.storage.postgres;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.nexus.core.Event;
import dev.nexus.core.testing.NostrKey;
import dev.nexus.storage.LiveFeed.LiveEvent;
import dev.nexus.storage.RetentionPolicy;
import dev.nexus.storage.WriteResult;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Node B's feed hears what node A commits: each event once, in commit order, whatever the timing. */
class PostgresLiveFeedTest {
    private static final long NOW = System.currentTimeMillis() / 1000;
    private final String url = TestPostgres.freshDatabase();
    private final List<AutoCloseable> opened = new ArrayList<>();
    private final LinkedBlockingQueue<LiveEvent> receivedOnB = new LinkedBlockingQueue<>();

    private PostgresEventStore node() {
        PostgresEventStore s = new PostgresEventStore(url, 2, 256, RetentionPolicy.DEFAULT);
        opened.add(s);
        return s;
    }

    private PostgresLiveFeed feed(PostgresEventStore store, String name) {
        PostgresLiveFeed f = new PostgresLiveFeed(store, name);
        opened.add(0, f);
        return f;
    }

    @AfterEach
    void close() throws Exception {
        for (AutoCloseable c : opened) c.close();
    }

    /** The next {@code n} deliveries, failing (not hanging) if they do not come. */
    private List<LiveEvent> take(int n) throws InterruptedException {
        List<LiveEvent> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            LiveEvent e = receivedOnB.poll(30, TimeUnit.SECONDS);
            if (e == null) throw new AssertionError("only " + out.size() + " of " + n + " events arrived");
            out.add(e);
        }
        return out;
    }

    private static void assertInCommitOrderOnce(List<LiveEvent> got) {
        Set<String> ids = new HashSet<>();
        for (int i = 0; i < got.size(); i++) {
            assertTrue(ids.add(got.get(i).event().id()), "delivered twice: " + got.get(i).event().id());
            if (i > 0) assertTrue(got.get(i).seq() > got.get(i - 1).seq(), "out of order at " + i);
        }
    }

    @Test
    void everyEventCommittedOnEitherNodeReachesNodeBsFeedOnceAndInOrder() throws Exception {
        PostgresEventStore a = node(), b = node();
        feed(b, "feed-b").start(receivedOnB::add);
        NostrKey k1 = NostrKey.generate(), k2 = NostrKey.generate();
        List<CompletableFuture<WriteResult>> pending = new ArrayList<>();
        List<Event> sent = new ArrayList<>();
        for (int i = 0; i < 300; i++) {
            // Many small commits from two nodes: notifications coalesce, deliveries must not.
            Event ea = k1.sign(1, "a" + i), eb = k2.sign(5050, List.of(), "b" + i, NOW);
            sent.add(ea);
            sent.add(eb);
            pending.add(a.write(ea));
            pending.add(b.write(eb));
        }
        pending.forEach(r -> assertTrue(r.join().accepted()));
        List<LiveEvent> got = take(sent.size());
        assertInCommitOrderOnce(got);
        assertEquals(sent.stream().map(Event::id).collect(java.util.stream.Collectors.toSet()),
                got.stream().map(e -> e.event().id()).collect(java.util.stream.Collectors.toSet()));
        assertTrue(got.stream().allMatch(LiveEvent::stored));
        // A duplicate (answered as a success) stores nothing new, so it is not news.
        assertTrue(a.write(sent.get(0)).join().alreadyStored());
        Event marker = k1.sign(1, "marker");
        a.write(marker).join();
        assertEquals(marker.id(), take(1).get(0).event().id());
    }

    @Test
    void ephemeralEventsCrossNodesWithoutBeingStoredEvenPastTheNotifyPayloadLimit() throws Exception {
        PostgresEventStore a = node(), b = node();
        PostgresLiveFeed feedA = feed(a, "feed-a");
        feed(b, "feed-b").start(receivedOnB::add);
        NostrKey k = NostrKey.generate();
        Event small = k.sign(25910, List.of(), "{\"method\":\"ping\"}", NOW);
        Event large = k.sign(20001, List.of(), "x".repeat(50_000), NOW);
        assertTrue(feedA.publish(small).join().accepted());
        assertTrue(feedA.publish(large).join().accepted());
        List<LiveEvent> got = take(2);
        assertEquals(List.of(small.id(), large.id()), got.stream().map(e -> e.event().id()).toList());
        assertEquals(large.json(), got.get(1).event().json());
        assertFalse(got.get(0).stored());
        assertFalse(a.contains(small.id()));
        assertFalse(b.contains(large.id()));
    }

    /**
     * The classic trap: node A's event row gets a lower event.seq than node B's, but A commits
     * last. A reader of "event.seq > last seen" would skip A's event; the feed numbers commits, so
     * it delivers B's, then A's, each once.
     */
    @Test
    void aTransactionThatStartedFirstButCommitsLastIsStillDelivered() throws Exception {
        PostgresEventStore a = node(), b = node();
        feed(b, "feed-b").start(receivedOnB::add);
        NostrKey alice = NostrKey.generate(), bob = NostrKey.generate();
        Event profile = alice.sign(0, List.of(), "{\"name\":\"v1\"}", NOW - 10);
        assertTrue(a.write(profile).join().accepted());
        take(1);
        NostrKey carol = NostrKey.generate();
        Event first, second, third;
        CompletableFuture<WriteResult> slow1, slow2;
        try (Connection holder = TestPostgres.connect(url); Statement hold = holder.createStatement();
             Connection blocker = TestPostgres.connect(url); Statement s = blocker.createStatement()) {
            // Park A's writer on carol's lock so that A's next two writes queue up and share one batch.
            hold.execute("SELECT pg_advisory_lock(" + Locks.author(carol.pubkey()) + ")");
            Event parked = carol.sign(1, "parks the writer");
            CompletableFuture<WriteResult> parking = a.write(parked);
            awaitLockWaiter(url, "advisory");
            // Hold the row of alice's profile: that batch inserts its note, then waits to replace the profile.
            blocker.setAutoCommit(false);
            s.executeQuery("SELECT 1 FROM event WHERE id = '" + profile.id() + "' FOR UPDATE").close();
            first = alice.sign(1, "inserted first, committed last");
            Event v2 = alice.sign(0, List.of(), "{\"name\":\"v2\"}", NOW);
            slow1 = a.write(first);
            slow2 = a.write(v2);
            hold.execute("SELECT pg_advisory_unlock(" + Locks.author(carol.pubkey()) + ")");
            assertTrue(parking.join().accepted());
            assertEquals(parked.id(), take(1).get(0).event().id());
            awaitLockWaiter(url, "transactionid");
            second = bob.sign(1, "inserted second, committed first");
            assertTrue(b.write(second).join().accepted());
            third = v2;
            List<LiveEvent> early = take(1);
            assertEquals(second.id(), early.get(0).event().id());
            blocker.rollback();
        }
        assertTrue(slow1.join().accepted());
        assertTrue(slow2.join().accepted());
        List<LiveEvent> late = take(2);
        assertEquals(List.of(first.id(), third.id()), late.stream().map(e -> e.event().id()).toList());
        assertTrue(eventSeq(first.id()) < eventSeq(second.id()), "the trap was set: A's row drew the lower event.seq yet committed last");
        assertTrue(receivedOnB.poll(1, TimeUnit.SECONDS) == null, "nothing delivered twice");
    }

    private long eventSeq(String id) throws Exception {
        try (Connection c = TestPostgres.connect(url); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT seq FROM event WHERE id = '" + id + "'")) {
            assertTrue(rs.next());
            return rs.getLong(1);
        }
    }

    private static void awaitLockWaiter(String url, String lockType) throws Exception {
        try (Connection c = TestPostgres.connect(url); Statement s = c.createStatement()) {
            for (int i = 0; i < 300; i++) {
                try (ResultSet rs = s.executeQuery("SELECT count(*) FROM pg_locks WHERE NOT granted AND locktype = '" + lockType + "'")) {
                    rs.next();
                    if (rs.getInt(1) > 0) return;
                }
                Thread.sleep(100);
            }
        }
        throw new AssertionError("the writer never waited for a " + lockType + " lock");
    }

    @Test
    void aFeedThatLosesItsConnectionResumesWhereItWasAndMissesNothing() throws Exception {
        PostgresEventStore a = node(), b = node();
        PostgresLiveFeed feedB = feed(b, "feed-b");
        feedB.start(receivedOnB::add);
        NostrKey k = NostrKey.generate();
        Event before = k.sign(1, "before");
        a.write(before).join();
        assertEquals(before.id(), take(1).get(0).event().id());
        List<Event> whileAway = new ArrayList<>();
        try (Connection admin = TestPostgres.connect(url); Statement s = admin.createStatement()) {
            try (ResultSet rs = s.executeQuery("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = 'feed-b'")) {
                rs.next();
                assertEquals(1, rs.getInt(1));
            }
            for (int i = 0; i < 20; i++) {
                Event e = k.sign(1, "while away " + i);
                whileAway.add(e);
                assertTrue(a.write(e).join().accepted());
            }
        }
        List<LiveEvent> got = take(whileAway.size());
        assertEquals(whileAway.stream().map(Event::id).toList(), got.stream().map(e -> e.event().id()).toList());
        assertInCommitOrderOnce(got);
        assertTrue(receivedOnB.poll(1, TimeUnit.SECONDS) == null, "nothing delivered twice");
    }
}
