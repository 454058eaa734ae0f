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
    void kindsAreNonNegativeThirtyTwoBitIntegersAndThoseAboveTheNip01RangesAreRegular() {
        assertTrue(Kinds.isValid(0));
        assertTrue(Kinds.isValid(68001));
        assertTrue(Kinds.isValid(Integer.MAX_VALUE));
        assertFalse(Kinds.isValid(-1));
        assertFalse(Kinds.isValid(Integer.MAX_VALUE + 1L));
        assertTrue(Kinds.isRegular(68001));
        assertTrue(Kinds.isRegular(Integer.MAX_VALUE));
    }
}
