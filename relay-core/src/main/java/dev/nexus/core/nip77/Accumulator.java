package dev.nexus.core.nip77;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;

/**
 * The sum of ids, each read as a 256-bit little-endian unsigned integer, modulo 2^256; and the
 * NIP-77 fingerprint made from it: the first 16 bytes of SHA-256(sum ‖ varint(count)).
 */
public final class Accumulator {
    private static final VarHandle LITTLE_ENDIAN_LONG =
            MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);

    private final long[] limbs = new long[4]; // least significant first

    /** Adds the 32-byte id at {@code ids[offset]}. */
    public void add(byte[] ids, int offset) {
        long carry = 0;
        for (int i = 0; i < 4; i++) {
            long other = (long) LITTLE_ENDIAN_LONG.get(ids, offset + 8 * i);
            long sum = limbs[i] + other;
            long nextCarry = Long.compareUnsigned(sum, other) < 0 ? 1 : 0;
            long withCarry = sum + carry;
            if (Long.compareUnsigned(withCarry, sum) < 0) nextCarry = 1;
            limbs[i] = withCarry;
            carry = nextCarry;
        }
    }

    public void add(byte[] id) {
        if (id.length != Negentropy.ID_SIZE) throw new IllegalArgumentException("id must be 32 bytes");
        add(id, 0);
    }

    /** The sum as 32 little-endian bytes. */
    public byte[] sum() {
        byte[] out = new byte[Negentropy.ID_SIZE];
        for (int i = 0; i < 4; i++) LITTLE_ENDIAN_LONG.set(out, 8 * i, limbs[i]);
        return out;
    }

    public byte[] fingerprint(long count) {
        MessageDigest sha256;
        try {
            sha256 = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JDK has SHA-256", e);
        }
        sha256.update(sum());
        sha256.update(Varint.encode(count));
        return Arrays.copyOf(sha256.digest(), Negentropy.FINGERPRINT_SIZE);
    }
}
