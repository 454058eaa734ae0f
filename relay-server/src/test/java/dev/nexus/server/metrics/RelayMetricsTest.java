package dev.nexus.server.metrics;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.nexus.config.NexusConfig;
import dev.nexus.core.Event;
import dev.nexus.core.MarketplaceKinds;
import dev.nexus.core.testing.NostrKey;
import java.net.InetSocketAddress;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The pure parts of the metrics: labels, outcomes, who may scrape, the summary line. */
class RelayMetricsTest {
    private final NostrKey key = NostrKey.generate();

    @Test
    void theOutcomeIsTheOkPrefixFromABoundedSet() {
        assertEquals("stored", EventMetrics.outcome(true, ""));
        assertEquals("duplicate", EventMetrics.outcome(true, "duplicate: already have this event"));
        assertEquals("invalid", EventMetrics.outcome(false, "invalid: bad signature"));
        assertEquals("rate-limited", EventMetrics.outcome(false, "rate-limited: slow down"));
        assertEquals("auth-required", EventMetrics.outcome(false, "auth-required: authenticate"));
        assertEquals("blocked", EventMetrics.outcome(false, "blocked: no"));
        assertEquals("restricted", EventMetrics.outcome(false, "restricted: no"));
        assertEquals("error", EventMetrics.outcome(false, "could not store"));
        assertEquals("error", EventMetrics.outcome(false, "made-up-" + key.pubkey() + ": x"), "an unknown prefix is not a new label");
    }

    @Test
    void kindClassesPutJobTrafficFirst() {
        MarketplaceKinds m = MarketplaceKinds.DEFAULT;
        assertEquals("job", EventMetrics.kindClass(m, 5050));
        assertEquals("job", EventMetrics.kindClass(m, 6050));
        assertEquals("job", EventMetrics.kindClass(m, 7000));
        assertEquals("job", EventMetrics.kindClass(m, 25910), "ContextVM's ephemeral kind is job traffic");
        assertEquals("ephemeral", EventMetrics.kindClass(m, 20001));
        assertEquals("replaceable", EventMetrics.kindClass(m, 0));
        assertEquals("replaceable", EventMetrics.kindClass(m, 10002));
        assertEquals("addressable", EventMetrics.kindClass(m, 30023));
        assertEquals("regular", EventMetrics.kindClass(m, 1));
    }

    @Test
    void frameTypesAndVerbsAreBounded() {
        assertEquals("OK", MessageMetrics.typeOf("[\"OK\",\"abc\",true,\"\"]"));
        assertEquals("NEG-ERR", MessageMetrics.typeOf("[\"NEG-ERR\",\"s\",\"blocked: x\"]"));
        assertEquals("other", MessageMetrics.typeOf("[\"SOMETHING\"]"));
        assertEquals("other", MessageMetrics.typeOf("x"));
        assertEquals("malformed", MessageMetrics.verbOf(null));
    }

    @Test
    void onlyLoopbackClientsMayScrapeAndBehindAProxyTheForwardedAddressDecides() {
        InetSocketAddress local = new InetSocketAddress("127.0.0.1", 40000);
        InetSocketAddress remote = new InetSocketAddress("203.0.113.9", 40000);
        assertTrue(MetricsEndpoint.isLoopback(null, local));
        assertTrue(MetricsEndpoint.isLoopback(null, new InetSocketAddress("::1", 40000)));
        assertFalse(MetricsEndpoint.isLoopback(null, remote));
        assertFalse(MetricsEndpoint.isLoopback("198.51.100.4", local), "a proxy on this machine forwards someone else");
        assertTrue(MetricsEndpoint.isLoopback("127.0.0.1", remote));
        try (RelayMetrics closed = metrics(new NexusConfig.Metrics(true, false, 60));
             RelayMetrics open = metrics(new NexusConfig.Metrics(true, true, 60));
             RelayMetrics off = metrics(new NexusConfig.Metrics(false, true, 60))) {
            assertEquals(403, closed.scrape(null, remote).status());
            assertEquals(200, closed.scrape(null, local).status());
            assertEquals(200, open.scrape(null, remote).status());
            assertEquals(404, off.scrape(null, local).status());
        }
    }

    @Test
    void theSummaryLineSaysWhatHappenedSinceTheLastOneAndNothingWhenNothingDid() {
        try (RelayMetrics m = metrics(NexusConfig.defaults().metrics())) {
            assertNull(m.summaryLine(), "nothing happened yet");
            m.connectionOpened();
            assertNull(m.summaryLine(), "a socket that sends nothing (a scrape) is not news");
            m.connectionOpened();
            m.connectionRefused("max_connections 10");
            Event request = key.sign(5050, "job");
            m.eventAnswered(request, true, "");
            m.eventAnswered(key.sign(7000, List.of(List.of("e", request.id()), List.of("status", "processing")), ""), true, "");
            m.eventAnswered(key.sign(1, "a"), false, "rate-limited: slow down");
            m.eventAnswered(key.sign(1, "b"), false, "rate-limited: slow down");
            m.eventAnswered(key.sign(1, "c"), true, "duplicate: have it");
            m.liveEventsSent(1);
            String line = m.summaryLine();
            assertTrue(line.contains("1 opened"), line);
            assertTrue(line.contains("1 refused: 1 max_connections"), line);
            assertTrue(line.contains("events in 5 (2 stored, 1 duplicate, 2 refused: 2 rate-limited)"), line);
            assertTrue(line.contains("live events out 1"), line);
            assertTrue(line.contains("jobs 1 requests, 1 feedback, 0 results"), line);
            assertNull(m.summaryLine(), "quiet again: nothing new");
            m.eventAnswered(key.sign(1, "d"), false, "invalid: bad signature");
            assertTrue(m.summaryLine().contains("events in 1 (0 stored, 0 duplicate, 1 refused: 1 invalid)"));
        }
    }

    private static RelayMetrics metrics(NexusConfig.Metrics config) {
        return new RelayMetrics(config, MarketplaceKinds.DEFAULT);
    }
}
