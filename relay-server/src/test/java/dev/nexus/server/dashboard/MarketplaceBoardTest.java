package dev.nexus.server.dashboard;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.nexus.core.Event;
import dev.nexus.core.MarketplaceKinds;
import dev.nexus.core.testing.NostrKey;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class MarketplaceBoardTest {
    private static final long START = 1_700_000_000_000L;
    private final AtomicLong now = new AtomicLong(START);
    private final NostrKey buyer = NostrKey.generate();
    private final NostrKey provider = NostrKey.generate();
    private final MarketplaceBoard board = new MarketplaceBoard(MarketplaceKinds.DEFAULT,
            e -> e.kind() == 4 || e.hasTag("encrypted"), now::get, () -> new MarketplaceBoard.Agents(3, 2));

    private int nonce;

    private Event request(int kind) {
        return buyer.sign(kind, List.of(List.of("i", "secret prompt", "text"), List.of("nonce", String.valueOf(nonce++))), "the customer's private words");
    }

    private Event feedback(NostrKey from, Event request, String status) {
        return from.sign(7000, List.of(List.of("e", request.id()), List.of("p", buyer.pubkey()), List.of("status", status)), "provider says hi");
    }

    private Event result(NostrKey from, Event request) {
        return from.sign(request.kind() + 1000, List.of(List.of("e", request.id()), List.of("p", buyer.pubkey())), "the answer is 4");
    }

    private MarketplaceBoard.JobRow row(String requestId) {
        for (MarketplaceBoard.JobRow r : board.snapshot().recentJobs()) if (requestId.startsWith(r.id())) return r;
        throw new AssertionError("no row for " + requestId);
    }

    @Test
    void aJobMovesThroughItsStatesAndIsTimed() {
        Event job = request(5050);
        board.committed(job);
        assertEquals("requested", row(job.id()).state());
        now.addAndGet(400);
        board.committed(feedback(provider, job, "payment-required"));
        assertEquals("payment-required", row(job.id()).state());
        now.addAndGet(600);
        board.committed(feedback(provider, job, "processing"));
        assertEquals("processing", row(job.id()).state());
        board.committed(feedback(provider, job, "success"));
        assertEquals("success", row(job.id()).state());
        now.addAndGet(1000);
        board.committed(result(provider, job));
        board.committed(feedback(provider, job, "processing"));

        MarketplaceBoard.Snapshot s = board.snapshot();
        MarketplaceBoard.JobRow r = row(job.id());
        assertEquals("result", r.state(), "a late feedback does not move a job back");
        assertEquals(5050, r.kind());
        assertEquals(0.4, r.firstFeedbackSeconds(), 1e-9);
        assertEquals(2.0, r.resultSeconds(), 1e-9);
        assertEquals(MarketplaceBoard.shorten(provider.pubkey()), r.provider());
        assertEquals(1, s.requests());
        assertEquals(4, s.feedback());
        assertEquals(1, s.results());
        assertEquals(1L, s.feedbackByStatus().get("payment-required"));
        assertEquals(2L, s.feedbackByStatus().get("processing"));
        assertEquals(1L, s.feedbackByStatus().get("success"));
        assertEquals(0.4, s.toFirstFeedback().median(), 1e-9);
        assertEquals(2.0, s.toResult().p95(), 1e-9);
        assertEquals(new MarketplaceBoard.Agents(3, 2), s.agents());
        assertEquals(List.of(new MarketplaceBoard.Provider(MarketplaceBoard.shorten(provider.pubkey()), 1, 4)), s.busiestProviders());
    }

    @Test
    void anErrorFeedbackEndsInError() {
        Event job = request(5100);
        board.committed(job);
        board.committed(feedback(provider, job, "processing"));
        board.committed(feedback(provider, job, "error"));
        assertEquals("error", row(job.id()).state());
        board.committed(feedback(provider, job, "made-up"));
        assertEquals("error", row(job.id()).state());
        assertEquals(1L, board.snapshot().feedbackByStatus().get("other"), "unknown statuses are one bounded label");
    }

    @Test
    void medianAndP95AreNearestRankOverTheSamples() {
        for (int i = 1; i <= 100; i++) {
            Event job = request(5050);
            board.committed(job);
            now.addAndGet(i * 10L);
            board.committed(feedback(provider, job, "processing"));
            now.addAndGet(i * 10L);
            board.committed(result(provider, job));
        }
        MarketplaceBoard.Snapshot s = board.snapshot();
        assertEquals(0.5, s.toFirstFeedback().median(), 1e-9, "the 50th of 10..1000 ms");
        assertEquals(0.95, s.toFirstFeedback().p95(), 1e-9);
        assertEquals(1.0, s.toResult().median(), 1e-9);
        assertEquals(1.9, s.toResult().p95(), 1e-9);
        assertEquals(100, s.toResult().samples());
        assertEquals(MarketplaceBoard.RECENT_JOBS, s.recentJobs().size());
    }

    @Test
    void percentilesOfNothingAreAbsent() {
        MarketplaceBoard.Snapshot s = board.snapshot();
        assertNull(s.toFirstFeedback().median());
        assertNull(s.toResult().p95());
        assertTrue(s.recentJobs().isEmpty());
        assertEquals(MarketplaceBoard.MINUTES, s.requestsPerMinute().size());
    }

    @Test
    void requestsPerMinuteCoverTheLastHourByKind() {
        board.committed(request(5050));
        board.committed(request(5050));
        board.committed(request(5300));
        now.addAndGet(30 * 60_000L);
        board.committed(request(5050));
        MarketplaceBoard.Snapshot s = board.snapshot();
        assertEquals(1L, s.requestsPerMinute().get(59));
        assertEquals(3L, s.requestsPerMinute().get(29));
        assertEquals(List.of(new MarketplaceBoard.KindRate(5050, 1, 3), new MarketplaceBoard.KindRate(5300, 0, 1)), s.kinds());

        now.addAndGet(31 * 60_000L);
        s = board.snapshot();
        assertEquals(1L, s.requestsPerMinute().stream().mapToLong(Long::longValue).sum(), "the first minute's requests fell out of the hour");
        board.committed(request(5050));
        assertEquals(1L, board.snapshot().requestsPerMinute().get(59), "a reused bucket starts from zero");
        assertEquals(5, board.snapshot().requests());
    }

    @Test
    void trackedJobsTimingsAndProvidersAreBounded() {
        for (int i = 0; i < MarketplaceBoard.TRACKED_JOBS + 50; i++) board.committed(request(5050));
        for (int i = 0; i < MarketplaceBoard.TRACKED_PROVIDERS + 20; i++) {
            Event job = request(5050);
            board.committed(job);
            board.committed(result(NostrKey.generate(), job));
        }
        MarketplaceBoard.Snapshot s = board.snapshot();
        assertEquals(MarketplaceBoard.RECENT_JOBS, s.recentJobs().size());
        assertEquals(MarketplaceBoard.TOP_PROVIDERS, s.busiestProviders().size());
        assertEquals(MarketplaceBoard.TIMING_SAMPLES, s.toResult().samples());
        assertEquals(MarketplaceBoard.TRACKED_JOBS + 50 + MarketplaceBoard.TRACKED_PROVIDERS + 20, s.requests());
    }

    @Test
    void theBusiestProviderComesFirst() {
        NostrKey busy = NostrKey.generate();
        for (int i = 0; i < 3; i++) {
            Event job = request(5050);
            board.committed(job);
            board.committed(result(busy, job));
        }
        Event job = request(5050);
        board.committed(job);
        board.committed(result(provider, job));
        List<MarketplaceBoard.Provider> top = board.snapshot().busiestProviders();
        assertEquals(MarketplaceBoard.shorten(busy.pubkey()), top.get(0).pubkey());
        assertEquals(3, top.get(0).results());
    }

    @Test
    void privateTrafficAndContentNeverReachThePageOrTheJson() {
        Event encrypted = buyer.sign(5050, List.of(List.of("encrypted"), List.of("p", provider.pubkey())), "ciphertext-only-for-the-provider");
        board.committed(encrypted);
        board.committed(buyer.sign(4, List.of(List.of("p", provider.pubkey())), "a direct message"));
        board.committed(buyer.sign(1, "a note"));
        Event job = request(5050);
        board.committed(job);
        board.committed(feedback(provider, job, "processing"));
        board.committed(result(provider, job));

        MarketplaceBoard.Snapshot s = board.snapshot();
        assertEquals(1, s.requests(), "the encrypted request is not counted");
        assertEquals(1, s.recentJobs().size());
        Dashboard dashboard = new Dashboard(board, "relay", "marketplace");
        String page = dashboard.html(s);
        String json = new String(Dashboard.json(s), StandardCharsets.UTF_8);
        List<String> secrets = new ArrayList<>(List.of("ciphertext", "private words", "secret prompt", "the answer is 4", "provider says hi",
                "a note", buyer.pubkey(), provider.pubkey(), job.id(), encrypted.id().substring(0, 8)));
        for (String secret : secrets) {
            assertFalse(page.contains(secret), "page shows " + secret);
            assertFalse(json.contains(secret), "json shows " + secret);
        }
        assertTrue(page.contains(MarketplaceBoard.shorten(provider.pubkey())));
        assertTrue(json.contains("\"state\":\"result\""));
    }

    @Test
    void pubkeysAreShortened() {
        String hex = "a".repeat(8) + "0".repeat(52) + "beef";
        assertEquals("aaaaaaaa\u2026beef", MarketplaceBoard.shorten(hex));
    }
}
