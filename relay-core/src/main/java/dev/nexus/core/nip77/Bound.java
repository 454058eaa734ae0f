package dev.nexus.core.nip77;

import java.util.Arrays;

/**
 * An exclusive upper bound in the (timestamp, id) order: a timestamp and an id prefix of 0 to 32
 * bytes, the omitted bytes read as zeros. The timestamp is unsigned; {@link #INFINITY_TIMESTAMP}
 * (2^64-1) is reserved for the bound past every item.
 */
public final class Bound {
    public static final long INFINITY_TIMESTAMP = -1L;
    public static final Bound ZERO = new Bound(0, new byte[0]);
    public static final Bound INFINITY = new Bound(INFINITY_TIMESTAMP, new byte[0]);

    private final long timestamp;
    private final byte[] idPrefix;

    public Bound(long timestamp, byte[] idPrefix) {
        if (idPrefix.length > Negentropy.ID_SIZE) throw new NegentropyException("bound id prefix too long");
        this.timestamp = timestamp;
        this.idPrefix = idPrefix.clone();
    }

    public long timestamp() {
        return timestamp;
    }

    public int idPrefixLength() {
        return idPrefix.length;
    }

    byte idByte(int index) {
        return index < idPrefix.length ? idPrefix[index] : 0;
    }

    void writeIdPrefix(ByteWriter out) {
        out.write(idPrefix);
    }

    /** Orders an item (timestamp, 32-byte id at {@code ids[offset]}) against this bound: negative when the item is below it. */
    int compareItem(long itemTimestamp, byte[] ids, int offset) {
        int c = Long.compareUnsigned(itemTimestamp, timestamp);
        if (c != 0) return c;
        for (int i = 0; i < Negentropy.ID_SIZE; i++) {
            int a = ids[offset + i] & 0xff, b = idByte(i) & 0xff;
            if (a != b) return a - b;
        }
        return 0;
    }

    /**
     * The shortest bound that separates {@code prev} from {@code curr} (prev < curr): curr's
     * timestamp alone when the timestamps differ, else curr's id up to and including the first byte
     * that differs from prev's.
     */
    static Bound minimal(long prevTimestamp, byte[] prevId, long currTimestamp, byte[] currId) {
        if (prevTimestamp != currTimestamp) return new Bound(currTimestamp, new byte[0]);
        int shared = 0;
        while (shared < Negentropy.ID_SIZE && prevId[shared] == currId[shared]) shared++;
        return new Bound(currTimestamp, Arrays.copyOf(currId, Math.min(shared + 1, Negentropy.ID_SIZE)));
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Bound b && b.timestamp == timestamp && Arrays.equals(b.idPrefix, idPrefix);
    }

    @Override
    public int hashCode() {
        return Long.hashCode(timestamp) * 31 + Arrays.hashCode(idPrefix);
    }

    @Override
    public String toString() {
        return "Bound(" + Long.toUnsignedString(timestamp) + ", " + dev.nexus.core.Hex.encode(idPrefix) + ")";
    }
}
