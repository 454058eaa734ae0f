package dev.nexus.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.channel.embedded.EmbeddedChannel;
import org.junit.jupiter.api.Test;

/** The minute's summary of the connections the relay closed, which stands in for a log line per close. */
class ConnectionClosesTest {
    private final ConnectionCloses closes = new ConnectionCloses();

    private void close(String ip, ConnectionCloses.Reason reason) {
        EmbeddedChannel channel = new EmbeddedChannel();
        if (reason != null) ConnectionCloses.mark(channel, reason);
        closes.closed(channel, ip);
    }

    @Test
    void eachReasonIsSummedWithTheAddressesBehindMostOfIt() {
        for (int i = 0; i < 5; i++) close("10.0.0.1", ConnectionCloses.Reason.BAD_FRAME);
        for (int i = 0; i < 2; i++) close("10.0.0.2", ConnectionCloses.Reason.BAD_FRAME);
        close("10.0.0.3", ConnectionCloses.Reason.BAD_FRAME);
        close("10.0.0.4", ConnectionCloses.Reason.BAD_FRAME);
        close("10.0.0.9", ConnectionCloses.Reason.AUTH_FAILURES);
        close("10.0.0.7", null); // the client closed it: not the relay's doing, not summed up
        assertEquals("9 bad frame (10.0.0.1 5, 10.0.0.2 2, 10.0.0.3 1, 1 more addresses), 1 too many failed AUTH (10.0.0.9 1)",
                closes.recentSummary());
        assertEquals("", closes.recentSummary(), "each summary covers the closes since the one before");
        assertEquals(9, closes.count(ConnectionCloses.Reason.BAD_FRAME), "the totals (the metric) are not reset");
    }

    @Test
    void addressesSpreadWideAreCountedWithoutKeepingEachOne() {
        int spread = ConnectionCloses.MAX_ADDRESSES * 3;
        for (int i = 0; i < spread; i++) close("10.1." + (i >> 8) + "." + (i & 0xff), ConnectionCloses.Reason.SLOW_CONSUMER);
        String line = closes.recentSummary();
        assertTrue(line.startsWith(spread + " slow consumer ("), line);
        assertTrue(line.endsWith((ConnectionCloses.MAX_ADDRESSES - 3) + " more addresses, " + (spread - ConnectionCloses.MAX_ADDRESSES)
                + " from other addresses)"), "at most " + ConnectionCloses.MAX_ADDRESSES + " addresses kept: " + line);
    }

    @Test
    void anIpv6ClientIsSummedByItsSlash64() {
        for (int i = 1; i <= 4; i++) close("2001:db8:7:7::" + i, ConnectionCloses.Reason.BAD_FRAME);
        assertEquals("4 bad frame (2001:db8:7:7::/64 4)", closes.recentSummary());
    }
}
