package dev.nexus.core;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class KindsTest {
    @Test
    void replaceableKindsAreZeroThreeAndTenThousandsRange() {
        for (int k : new int[] {0, 3, 10000, 19999}) assertTrue(Kinds.isReplaceable(k), "kind " + k);
        for (int k : new int[] {1, 2, 4, 9999, 20000}) assertFalse(Kinds.isReplaceable(k), "kind " + k);
    }

    @Test
    void ephemeralKindsAreTheTwentyThousandsRange() {
        assertTrue(Kinds.isEphemeral(20000));
        assertTrue(Kinds.isEphemeral(29999));
        assertFalse(Kinds.isEphemeral(30000));
    }

    @Test
    void addressableKindsAreTheThirtyThousandsRange() {
        assertTrue(Kinds.isAddressable(30000));
        assertTrue(Kinds.isAddressable(31990));
        assertFalse(Kinds.isAddressable(40000));
    }

    @Test
    void regularKindsAreEverythingElse() {
        for (int k : new int[] {1, 2, 4, 5, 1000, 5050, 6050, 7000, 9999, 40000}) assertTrue(Kinds.isRegular(k), "kind " + k);
        assertFalse(Kinds.isRegular(0));
        assertFalse(Kinds.isRegular(20001));
    }

    @Test
    void marketplaceRangesFollowNip90() {
        assertTrue(Kinds.isJobRequest(5050));
        assertTrue(Kinds.isJobResult(6050));
        assertTrue(Kinds.isJobTraffic(7000));
        assertFalse(Kinds.isJobTraffic(1));
        assertFalse(Kinds.isJobTraffic(31990));
    }
}
