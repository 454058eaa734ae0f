package dev.nexus.server.metrics;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class JobClockTest {
    private final AtomicLong now = new AtomicLong(1_000_000_000L);
    private final List<String> feedback = new ArrayList<>();
    private final List<String> results = new ArrayList<>();

    private JobClock clock(int capacity) {
        return new JobClock(capacity, now::get, (kind, s) -> feedback.add(kind + "@" + s), (kind, s) -> results.add(kind + "@" + s));
    }

    private void advanceSeconds(double s) {
        now.addAndGet((long) (s * 1e9));
    }

    @Test
    void timesTheFirstFeedbackAndTheFirstResultFromWhenTheRequestWasStored() {
        JobClock c = clock(10);
        c.requested("r1", 5050);
        advanceSeconds(1.5);
        c.feedback("r1");
        advanceSeconds(1);
        c.feedback("r1");
        advanceSeconds(0.5);
        c.result("r1");
        c.result("r1");
        assertEquals(List.of("5050@1.5"), feedback, "only the first feedback is timed");
        assertEquals(List.of("5050@3.0"), results, "only the first result is timed");
        assertEquals(0, c.pendingCount());
    }

    @Test
    void aResultWithoutFeedbackIsTimedAndRepliesToUnknownRequestsAreNot() {
        JobClock c = clock(10);
        c.requested("r1", 5100);
        advanceSeconds(2);
        c.feedback("unknown");
        c.result("unknown");
        c.result("r1");
        assertEquals(List.of(), feedback);
        assertEquals(List.of("5100@2.0"), results);
    }

    @Test
    void aDuplicateRequestDoesNotRestartItsClock() {
        JobClock c = clock(10);
        c.requested("r1", 5050);
        advanceSeconds(4);
        c.requested("r1", 5050);
        c.feedback("r1");
        assertEquals(List.of("5050@4.0"), feedback);
    }

    @Test
    void theMapIsBoundedAndForgetsTheOldestRequestsFirst() {
        JobClock c = clock(3);
        for (int i = 1; i <= 5; i++) c.requested("r" + i, 5000 + i);
        assertEquals(3, c.pendingCount());
        c.result("r1");
        c.result("r2");
        assertEquals(List.of(), results, "the two oldest were forgotten");
        c.result("r5");
        c.result("r3");
        assertEquals(List.of("5005@0.0", "5003@0.0"), results);
        assertEquals(1, c.pendingCount());
    }
}
