package dev.nexus.core.nip77;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.nexus.core.Hex;
import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;

class NegentropyEncodingTest {

    @Test
    void varintsAreBase128MostSignificantDigitFirstWithTheHighBitOnAllButTheLastByte() {
        assertEquals("00", Hex.encode(Varint.encode(0)));
        assertEquals("7f", Hex.encode(Varint.encode(127)));
        assertEquals("8100", Hex.encode(Varint.encode(128)));
        assertEquals("ff7f", Hex.encode(Varint.encode(16383)));
        assertEquals("818000", Hex.encode(Varint.encode(16384)));
        // 1677970534 = 6 * 2^28 + 32 * 2^21 + 15 * 2^14 + 24 * 2^7 + 102
        assertEquals("86a08f9866", Hex.encode(Varint.encode(1_677_970_534L)));
        // 2^64-1: ten digits, the first holding the one bit left over
        assertEquals("81" + "ff".repeat(8) + "7f", Hex.encode(Varint.encode(-1L)));
    }

    @Test
    void varintsRoundTripOverTheWholeUnsigned64BitRange() {
        Random random = new Random(7);
        for (int i = 0; i < 10_000; i++) {
            long v = random.nextLong() >>> random.nextInt(64);
            assertEquals(v, Varint.decode(Varint.encode(v)));
        }
        assertEquals(-1L, Varint.decode(Varint.encode(-1L)));
    }

    @Test
    void aVarintBeyond64BitsOrCutShortIsRefused() {
        assertThrows(NegentropyException.class, () -> Varint.decode(Hex.decode("82" + "80".repeat(9) + "00")));
        assertThrows(NegentropyException.class, () -> Varint.decode(Hex.decode("8080")));
        assertThrows(NegentropyException.class, () -> Varint.decode(Hex.decode("80".repeat(11) + "00")));
    }

    @Test
    void theFingerprintOfNoItemsIsSha256OfAZeroSumAndACountOfZero() {
        // first 16 bytes of SHA-256(32 zero bytes || 0x00), computed independently with Python's hashlib
        assertEquals("7f9c9e31ac8256ca2f258583df262dbc", Hex.encode(new Accumulator().fingerprint(0)));
    }

    @Test
    void idsAreSummedAsLittleEndian256BitIntegersModulo2To256() {
        Accumulator acc = new Accumulator();
        byte[] allOnes = new byte[32];
        Arrays.fill(allOnes, (byte) 0xff);
        byte[] one = new byte[32];
        one[0] = 1;
        acc.add(allOnes);
        acc.add(one); // 2^256 - 1 + 1 wraps to zero: the carry runs through every limb and out
        assertArrayEquals(new byte[32], acc.sum());

        Accumulator carry = new Accumulator();
        byte[] lowLimbFull = new byte[32];
        Arrays.fill(lowLimbFull, 0, 8, (byte) 0xff);
        carry.add(lowLimbFull);
        carry.add(one);
        byte[] expected = new byte[32];
        expected[8] = 1; // 2^64: little-endian byte 8
        assertArrayEquals(expected, carry.sum());
    }

    @Test
    void theSumIsTheSameAsBigIntegerArithmetic() {
        Random random = new Random(11);
        java.math.BigInteger modulus = java.math.BigInteger.ONE.shiftLeft(256);
        java.math.BigInteger expected = java.math.BigInteger.ZERO;
        Accumulator acc = new Accumulator();
        for (int i = 0; i < 1000; i++) {
            byte[] id = TwoSets.randomId(random);
            acc.add(id);
            expected = expected.add(littleEndian(id)).mod(modulus);
        }
        assertEquals(expected, littleEndian(acc.sum()));
        byte[] withCount = Arrays.copyOf(acc.sum(), 34);
        byte[] count = Varint.encode(1000);
        System.arraycopy(count, 0, withCount, 32, 2);
        assertArrayEquals(Arrays.copyOf(sha256(withCount), 16), acc.fingerprint(1000));
    }

    @Test
    void itemsAreOrderedByTimestampThenByIdBytesAndABoundPadsItsPrefixWithZeros() {
        byte[] low = Hex.decode("00".repeat(31) + "ff");
        byte[] high = Hex.decode("01" + "00".repeat(31));
        VectorStorage storage = VectorStorage.builder().add(5, high).add(5, low).add(4, high).build();
        assertEquals(4, storage.timestamp(0));
        byte[] id = new byte[32];
        storage.copyId(1, id, 0);
        assertArrayEquals(low, id);
        assertEquals(1, storage.findLowerBound(0, 3, new Bound(5, new byte[0])));
        assertEquals(2, storage.findLowerBound(0, 3, new Bound(5, new byte[] {1})));
        assertEquals(3, storage.findLowerBound(0, 3, Bound.INFINITY));
    }

    @Test
    void aStorageRefusesDuplicatesAndTheReservedInfinityTimestamp() {
        byte[] id = new byte[32];
        assertThrows(IllegalArgumentException.class, () -> VectorStorage.builder().add(1, id).add(1, id).build());
        assertThrows(IllegalArgumentException.class, () -> VectorStorage.builder().add(-1L, id));
    }

    @Test
    void theMinimalBoundBetweenTwoItemsOfOneTimestampIsTheSharedPrefixPlusOneByte() {
        byte[] a = Hex.decode("abcd01" + "00".repeat(29));
        byte[] b = Hex.decode("abcd02" + "00".repeat(29));
        Bound bound = Bound.minimal(9, a, 9, b);
        assertEquals(new Bound(9, Hex.decode("abcd02")), bound);
        assertTrue(bound.compareItem(9, a, 0) < 0);
        assertEquals(0, bound.compareItem(9, b, 0));
        assertEquals(new Bound(10, new byte[0]), Bound.minimal(9, a, 10, b));
    }

    private static java.math.BigInteger littleEndian(byte[] bytes) {
        byte[] bigEndian = new byte[bytes.length + 1];
        for (int i = 0; i < bytes.length; i++) bigEndian[bytes.length - i] = bytes[i];
        return new java.math.BigInteger(bigEndian);
    }

    private static byte[] sha256(byte[] input) {
        try {
            return java.security.MessageDigest.getInstance("SHA-256").digest(input);
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new AssertionError(e);
        }
    }
}
