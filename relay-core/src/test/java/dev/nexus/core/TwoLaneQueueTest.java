package dev.nexus.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class TwoLaneQueueTest {
    @Test
    void aTakerGetsEveryPriorityItemBeforeAnyNormalOneAndEachLaneKeepsItsOrder() {
        TwoLaneQueue<String> q = new TwoLaneQueue<>();
        q.add("n1", false);
        q.add("p1", true);
        q.add("n2", false);
        q.add("p2", true);
        assertEquals("p1", q.pollNow());
        assertEquals("p2", q.poll(1, TimeUnit.MILLISECONDS));
        assertEquals("n1", q.pollNow());
        assertEquals("n2", q.pollNow());
        assertNull(q.pollNow());
        assertTrue(q.isEmpty());
    }

    @Test
    void pollingTheNormalLaneLeavesPriorityItemsQueuedAndCounted() {
        TwoLaneQueue<String> q = new TwoLaneQueue<>();
        q.add("p1", true);
        assertNull(q.pollNormalNow(), "no normal item: nothing taken");
        assertEquals(1, q.size(), "the priority item is still counted");
        q.add("n1", false);
        assertEquals("n1", q.pollNormalNow(), "the normal item, though a priority item is older");
        assertNull(q.pollNormalNow());
        assertEquals("p1", q.pollNow());
        assertNull(q.poll(1, TimeUnit.MILLISECONDS), "no permit left behind");
    }

    @Test
    void pollingThePriorityLaneLeavesNormalItemsQueuedAndCounted() {
        TwoLaneQueue<String> q = new TwoLaneQueue<>();
        q.add("n1", false);
        q.add("n2", false);
        assertNull(q.pollPriorityNow(), "no priority item: nothing taken");
        assertEquals(2, q.size(), "the normal items are still counted");
        q.add("p1", true);
        assertEquals("p1", q.pollPriorityNow());
        assertNull(q.pollPriorityNow());
        assertEquals("n1", q.pollNow());
        assertEquals("n2", q.pollNow());
        assertNull(q.poll(1, TimeUnit.MILLISECONDS), "no permit left behind");
    }

    @Test
    void aWakeUpEndsAWaitWithoutATimeoutAndIsNeitherAnItemNorCounted() throws Exception {
        TwoLaneQueue<String> q = new TwoLaneQueue<>();
        CompletableFuture<String> waited = CompletableFuture.supplyAsync(q::take);
        Thread.sleep(50);
        q.wake(1);
        assertNull(waited.get(10, TimeUnit.SECONDS), "the waiting taker got nothing");
        assertEquals(0, q.size());
        q.add("n1", false);
        assertEquals(1, q.size(), "the wake-up left no permit that counts as an item");
        assertEquals("n1", q.pollNow());
        assertTrue(q.isEmpty());
    }

    @Test
    void aWakeUpWithNobodyWaitingEndsTheNextPollThatFindsNothingAndStealsNoItem() {
        TwoLaneQueue<String> q = new TwoLaneQueue<>();
        q.wake(1);
        assertTrue(q.isEmpty(), "a wake-up is not an item");
        q.add("n1", false);
        q.add("p1", true);
        assertEquals(2, q.size());
        assertEquals("p1", q.pollPriorityNow());
        assertEquals("n1", q.take(), "items come before the wake-up");
        assertNull(q.take(), "then the wake-up ends a wait that would never end");
        assertNull(q.pollNow());
        assertTrue(q.isEmpty());
        assertNull(q.next(false), "a worker told to stop takes only what is queued, and never waits");
        q.add("n2", false);
        assertEquals("n2", q.next(false));
    }
}
