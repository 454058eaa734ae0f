package dev.nexus.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.nexus.config.NexusConfig;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Per-address budgets: whose budget an address spends, and the connection caps. */
class RateLimiterTest {
    private static RateLimiter limiter(int eventsBurst, int maxConnectionsPerIp, int connectionsBurst, List<String> exempt) {
        return new RateLimiter(new NexusConfig.RateLimits(0.001, eventsBurst, 0.001, 10, 0.001, 10, maxConnectionsPerIp, 0.001,
                connectionsBurst, exempt, Map.of()));
    }

    @Test
    void anIpv6ClientIsItsSlash64AndAnIpv4ClientItsAddress() {
        assertEquals("203.0.113.7", RateLimiter.clientOf("203.0.113.7"));
        assertEquals("2001:db8:1:2::/64", RateLimiter.clientOf("2001:db8:1:2:aaaa:bbbb:cccc:1"));
        assertEquals(RateLimiter.clientOf("2001:db8:1:2::9"), RateLimiter.clientOf("2001:db8:1:2:ffff::"));
        assertNotEquals(RateLimiter.clientOf("2001:db8:1:2::9"), RateLimiter.clientOf("2001:db8:1:3::9"));
    }

    @Test
    void addressesOfOneSlash64SpendOneBudget() {
        RateLimiter limiter = limiter(3, 0, 100, List.of());
        for (int i = 1; i <= 3; i++) assertTrue(limiter.forIp("2001:db8:1:2::" + i).tryTake(RateLimiter.Kind.EVENTS));
        assertFalse(limiter.forIp("2001:db8:1:2::99").tryTake(RateLimiter.Kind.EVENTS), "a fourth address of the same /64 finds the budget spent");
        assertTrue(limiter.forIp("2001:db8:1:3::1").tryTake(RateLimiter.Kind.EVENTS), "the next /64 is another client");
    }

    @Test
    void theOpenConnectionCapCountsASlash64AsOneClient() {
        RateLimiter limiter = limiter(10, 2, 100, List.of());
        assertEquals(RateLimiter.ConnectRefusal.NONE, limiter.tryConnect("2001:db8::1", false));
        assertEquals(RateLimiter.ConnectRefusal.NONE, limiter.tryConnect("2001:db8::2", false));
        assertEquals(RateLimiter.ConnectRefusal.TOO_MANY_OPEN, limiter.tryConnect("2001:db8::3", false));
        limiter.disconnected("2001:db8::1");
        assertEquals(RateLimiter.ConnectRefusal.NONE, limiter.tryConnect("2001:db8::3", false), "a closed connection makes room for the /64");
    }

    @Test
    void howOftenAClientConnectsIsCountedPerSlash64() {
        RateLimiter limiter = limiter(10, 5, 2, List.of());
        assertFalse(limiter.connectsTooOften("2001:db8::1"));
        assertFalse(limiter.connectsTooOften("2001:db8::2"));
        assertTrue(limiter.connectsTooOften("2001:db8::3"), "the /64's burst of two is spent");
        assertFalse(limiter.connectsTooOften("198.51.100.1"));
    }

    @Test
    void aConnectionRefusedForItsRateHoldsNoOpenSlot() {
        RateLimiter limiter = limiter(10, 1, 1, List.of());
        assertEquals(RateLimiter.ConnectRefusal.NONE, limiter.tryConnect("2001:db8::7", true), "the one token and the one slot");
        limiter.disconnected("2001:db8::7");
        assertEquals(RateLimiter.ConnectRefusal.TOO_OFTEN, limiter.tryConnect("2001:db8::7", true));
        assertEquals(RateLimiter.ConnectRefusal.NONE, limiter.tryConnect("2001:db8::7", false), "the refused attempt gave its slot back");
    }

    @Test
    void anExemptAddressIsExemptAloneNotItsWholeSlash64() {
        RateLimiter limiter = limiter(1, 1, 1, List.of("2001:db8::5"));
        for (int i = 0; i < 5; i++) {
            assertTrue(limiter.forIp("2001:db8::5").tryTake(RateLimiter.Kind.EVENTS));
            assertFalse(limiter.connectsTooOften("2001:db8::5"));
            assertEquals(RateLimiter.ConnectRefusal.NONE, limiter.tryConnect("2001:db8::5", true));
        }
        assertTrue(limiter.forIp("2001:db8::6").tryTake(RateLimiter.Kind.EVENTS));
        assertFalse(limiter.forIp("2001:db8::6").tryTake(RateLimiter.Kind.EVENTS), "a neighbour of the exempt address has a budget");
    }
}
