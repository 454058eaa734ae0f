package dev.nexus.core;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** NIP-01 ids, pubkeys and signatures are lowercase hex: anything else is refused, never decoded to something. */
class HexTest {
    @Test
    void everyByteRoundTrips() {
        byte[] all = new byte[256];
        for (int i = 0; i < 256; i++) all[i] = (byte) i;
        String hex = Hex.encode(all);
        assertTrue(Hex.isLowerHex(hex, 256));
        assertArrayEquals(all, Hex.decode(hex));
        assertEquals("00ff7f80", Hex.encode(new byte[] {0, -1, 127, -128}));
    }

    @Test
    void uppercaseAndOtherCharactersAreNotLowercaseHex() {
        assertFalse(Hex.isLowerHex("ABCDEF01", 4));
        assertFalse(Hex.isLowerHex("abcdeg01", 4));
        assertFalse(Hex.isLowerHex("abcd ef0", 4));
        // Past ASCII: two characters whose low 7 bits are '0' (a 128-entry table indexed without the range check would take them), and the fullwidth zero.
        assertFalse(Hex.isLowerHex("abcdef0\u00b0", 4));
        assertFalse(Hex.isLowerHex("abcdef0\u0130", 4));
        assertFalse(Hex.isLowerHex("abcdef0\uff10", 4));
        assertThrows(IllegalArgumentException.class, () -> Hex.decode("ab\u00e1f"));
        assertThrows(IllegalArgumentException.class, () -> Hex.decode("AB"));
        assertThrows(IllegalArgumentException.class, () -> Hex.decode("a/"));
        assertThrows(IllegalArgumentException.class, () -> Hex.decode("a:"));
        assertThrows(IllegalArgumentException.class, () -> Hex.decode("a`"));
        assertThrows(IllegalArgumentException.class, () -> Hex.decode("ag"));
    }

    @Test
    void lengthMustMatchExactly() {
        assertFalse(Hex.isLowerHex("abcd", 4));
        assertFalse(Hex.isLowerHex("abcdef0123", 4));
        assertFalse(Hex.isLowerHex(null, 4));
        assertThrows(IllegalArgumentException.class, () -> Hex.decode("abc"));
    }
}
