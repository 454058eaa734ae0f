package dev.nexus.server.policy;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.nexus.config.NexusConfig;
import dev.nexus.core.Filter;
import dev.nexus.server.RateLimiter;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

class ReadPoliciesTest {
    private static final String ALICE = "a".repeat(64);

    private static Filter kinds(Integer... kinds) {
        return new Filter(null, null, Set.of(kinds), null, null, null, null);
    }

    @Test
    void readingNeedsAuthenticationUnlessEveryFilterNamesOnlyOpenKinds() throws Exception {
        ReadPolicy p = new AuthRequiredToRead(NexusConfig.parse("[auth]\nrequired = true\nopen_kinds = [25910]\n").auth());
        String refused = "auth-required: this relay requires NIP-42 authentication to read";
        assertEquals(refused, p.check("REQ", List.of(kinds(1)), Connection.anonymous()).orElseThrow().message());
        assertEquals(refused, p.check("REQ", List.of(kinds(25910), kinds(1)), Connection.anonymous()).orElseThrow().message());
        assertEquals(true, p.check("REQ", List.of(kinds(25910)), Connection.anonymous()).isEmpty());
        assertEquals(true, p.check("REQ", List.of(kinds(1)), Connection.as(ALICE)).isEmpty());
        ReadPolicy writesOnly = new AuthRequiredToRead(NexusConfig.parse("[auth]\nrequired = \"writes\"\n").auth());
        assertEquals(true, writesOnly.check("COUNT", List.of(kinds(1)), Connection.anonymous()).isEmpty());
    }

    @Test
    void readBudgetsNameTheVerbAndChargeTheAgent() throws Exception {
        NexusConfig c = NexusConfig.parse("[rate_limits]\nexempt_ips = []\nreqs_per_second = 0.001\nreqs_burst = 1\n");
        ReadPolicy p = new ReadBudgets(new RateLimiter(c.rateLimits()));
        assertEquals(true, p.check("REQ", List.of(), new Connection("198.51.100.1", Set.of(ALICE))).isEmpty());
        assertEquals("rate-limited: slow down, too many COUNTs from your address",
                p.check("COUNT", List.of(), new Connection("198.51.100.1", Set.of())).orElseThrow().message());
        assertEquals("rate-limited: slow down, too many REQs from your pubkey",
                p.check("REQ", List.of(), new Connection("198.51.100.2", Set.of(ALICE))).orElseThrow().message());
    }
}
