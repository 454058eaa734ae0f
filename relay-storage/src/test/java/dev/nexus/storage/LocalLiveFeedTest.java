package dev.nexus.storage;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.nexus.core.Event;
import dev.nexus.core.testing.NostrKey;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class LocalLiveFeedTest {
    private final NostrKey alice = NostrKey.generate();

    @Test
    void deliversCommittedAndEphemeralEventsInOrderOnTheFanOutThread() throws Exception {
        List<LiveFeed.LiveEvent> seen = new ArrayList<>();
        List<String> threads = new ArrayList<>();
        CountDownLatch three = new CountDownLatch(3);
        try (LocalLiveFeed feed = new LocalLiveFeed(16)) {
            feed.start(live -> {
                synchronized (seen) {
                    seen.add(live);
                    threads.add(Thread.currentThread().getName());
                }
                three.countDown();
            });
            Event a = alice.sign(1, "a");
            Event eph = alice.sign(20001, "ephemeral");
            Event b = alice.sign(1, "b");
            feed.committedHere(a);
            assertEquals(WriteResult.STORED, feed.publish(eph).get(5, TimeUnit.SECONDS));
            feed.committedHere(b);
            assertTrue(three.await(5, TimeUnit.SECONDS));
            synchronized (seen) {
                assertEquals(List.of(a, eph, b), seen.stream().map(LiveFeed.LiveEvent::event).toList());
                assertEquals(List.of(true, false, true), seen.stream().map(LiveFeed.LiveEvent::stored).toList());
                assertEquals(List.of(1L, 2L, 3L), seen.stream().map(LiveFeed.LiveEvent::seq).toList());
                assertTrue(threads.stream().allMatch(LocalLiveFeed.THREAD_NAME::equals), threads.toString());
            }
        }
    }

    @Test
    void aSlowSinkMakesPublishersWaitWithoutLosingEventsAndAFailingOneDoesNotStopTheFeed() throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        List<String> seen = new ArrayList<>();
        try (LocalLiveFeed feed = new LocalLiveFeed(2)) {
            feed.start(live -> {
                try {
                    release.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                if (live.event().content().equals("boom")) throw new IllegalStateException("a subscriber's loop is gone");
                synchronized (seen) {
                    seen.add(live.event().content());
                }
            });
            Thread writer = new Thread(() -> {
                for (String c : List.of("boom", "1", "2", "3", "4", "5")) feed.committedHere(alice.sign(1, c));
            });
            writer.start();
            writer.join(500);
            assertTrue(writer.isAlive(), "with the sink stuck and the queue full, the publisher waits");
            release.countDown();
            writer.join(5000);
            assertFalse(writer.isAlive());
            long deadline = System.currentTimeMillis() + 5000;
            while (System.currentTimeMillis() < deadline) {
                synchronized (seen) {
                    if (seen.size() == 5) break;
                }
                Thread.sleep(10);
            }
            synchronized (seen) {
                assertEquals(List.of("1", "2", "3", "4", "5"), seen);
            }
        }
    }

    @Test
    void afterCloseEphemeralPublishesAreRefusedAndCommitsDoNotBlock() throws Exception {
        LocalLiveFeed feed = new LocalLiveFeed(1);
        feed.start(live -> { });
        feed.close();
        assertEquals(WriteResult.Status.ERROR, feed.publish(alice.sign(20001, "late")).get(1, TimeUnit.SECONDS).status());
        feed.committedHere(alice.sign(1, "late"));
        feed.committedHere(alice.sign(1, "later"));
    }

    @Test
    void theIdleFanOutThreadWaitsWithoutATimeoutAndCloseEndsIt() throws Exception {
        LocalLiveFeed feed = new LocalLiveFeed(8);
        CountDownLatch delivered = new CountDownLatch(1);
        Thread[] fanOut = new Thread[1];
        feed.start(live -> {
            fanOut[0] = Thread.currentThread();
            delivered.countDown();
        });
        feed.committedHere(alice.sign(1, "one"));
        assertTrue(delivered.await(10, TimeUnit.SECONDS));
        Thread.sleep(200);
        assertEquals(Thread.State.WAITING, fanOut[0].getState(), "the idle fan-out thread waits for the next event with no timeout");
        long closing = System.nanoTime();
        feed.close();
        assertFalse(fanOut[0].isAlive(), "close woke and ended the idle fan-out thread");
        assertTrue(System.nanoTime() - closing < TimeUnit.SECONDS.toNanos(2), "without waiting for close's 2 s interrupt");
    }
}
