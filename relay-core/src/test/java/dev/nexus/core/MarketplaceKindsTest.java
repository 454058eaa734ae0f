package dev.nexus.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.nexus.core.MarketplaceKinds.Role;
import dev.nexus.core.testing.NostrKey;
import java.util.List;
import org.junit.jupiter.api.Test;

class MarketplaceKindsTest {
    private final MarketplaceKinds defaults = MarketplaceKinds.DEFAULT;
    private final NostrKey key = NostrKey.generate();

    @Test
    void byDefaultNip90RangesTheDvmDraftAndContextVmAreJobTraffic() {
        assertEquals(Role.JOB_REQUEST, defaults.roleOf(5000));
        assertEquals(Role.JOB_REQUEST, defaults.roleOf(5999));
        assertEquals(Role.JOB_REQUEST, defaults.roleOf(68001));
        assertEquals(Role.JOB_RESULT, defaults.roleOf(6050));
        assertEquals(Role.JOB_RESULT, defaults.roleOf(68002));
        assertEquals(Role.JOB_FEEDBACK, defaults.roleOf(7000));
        assertEquals(Role.AGENT_MESSAGE, defaults.roleOf(25910));
        for (int k : new int[] {1, 4999, 7001, 31990, 1059, 68003}) assertFalse(defaults.isJobTraffic(k), "kind " + k);
    }

    @Test
    void anOperatorsRangesReplaceTheDefaults() {
        MarketplaceKinds custom = new MarketplaceKinds(KindRanges.of("5050", "5930-5933"), KindRanges.of("6050"),
                KindRanges.NONE, KindRanges.of("25000-25999"));
        assertTrue(custom.isJobTraffic(5931));
        assertFalse(custom.isJobTraffic(5000));
        assertFalse(custom.isJobTraffic(7000));
        assertEquals(Role.AGENT_MESSAGE, custom.roleOf(25001));
    }

    @Test
    void resultsNeedAnETagAndFeedbackAlsoAStatusWhateverTheirKind() {
        Event job = key.sign(68001, List.of(List.of("j", "speech-to-text")), "");
        assertNull(defaults.shapeRefusal(job));
        assertTrue(defaults.shapeRefusal(key.sign(68002, List.of(List.of("p", key.pubkey())), "")).startsWith("invalid: "));
        assertNull(defaults.shapeRefusal(key.sign(68002, List.of(List.of("e", job.id())), "")));
        assertTrue(defaults.shapeRefusal(key.sign(7000, List.of(List.of("e", job.id())), "")).startsWith("invalid: "));
        assertNull(defaults.shapeRefusal(key.sign(7000, List.of(List.of("e", job.id()), List.of("status", "processing")), "")));
        assertNull(defaults.shapeRefusal(key.sign(1, List.of(), "")));
    }

    @Test
    void kindRangesParseSingleKindsAndInclusiveRangesAndRefuseNonsense() {
        KindRanges r = KindRanges.of("68001", "5000-5999", "2147483647");
        assertEquals(List.of("5000-5999", "68001", "2147483647"), r.specs());
        assertTrue(r.contains(5000) && r.contains(5999) && r.contains(68001) && r.contains(Integer.MAX_VALUE));
        assertFalse(r.contains(6000));
        for (String bad : List.of("-1", "5999-5000", "abc", "5000-", "1.5", "2147483648")) {
            assertThrows(IllegalArgumentException.class, () -> KindRanges.of(bad), bad);
        }
    }
}
