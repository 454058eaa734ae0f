package dev.nexus.core.nip77;

import java.util.Arrays;
import java.util.Comparator;
import java.util.stream.IntStream;

/**
 * Items in two flat arrays (8 + 32 bytes each). Built by a {@link Builder} that is fed either in
 * (timestamp, id) order, as a store cursor streams them (no sort, no copy beyond the arrays), or in
 * any order (sorted once at {@link Builder#build()}). Immutable once built, so one instance may be
 * read by several threads.
 */
public final class VectorStorage implements NegentropyStorage {
    private final long[] timestamps;
    private final byte[] ids;
    private final int size;

    private VectorStorage(long[] timestamps, byte[] ids, int size) {
        this.timestamps = timestamps;
        this.ids = ids;
        this.size = size;
    }

    public static Builder builder() {
        return new Builder();
    }

    @Override
    public int size() {
        return size;
    }

    @Override
    public long timestamp(int index) {
        checkIndex(index);
        return timestamps[index];
    }

    @Override
    public void copyId(int index, byte[] dst, int offset) {
        checkIndex(index);
        System.arraycopy(ids, index * Negentropy.ID_SIZE, dst, offset, Negentropy.ID_SIZE);
    }

    @Override
    public int findLowerBound(int begin, int end, Bound bound) {
        checkRange(begin, end);
        int lo = begin, hi = end;
        while (lo < hi) {
            int mid = (lo + hi) >>> 1;
            if (bound.compareItem(timestamps[mid], ids, mid * Negentropy.ID_SIZE) < 0) lo = mid + 1;
            else hi = mid;
        }
        return lo;
    }

    @Override
    public byte[] fingerprint(int begin, int end) {
        checkRange(begin, end);
        Accumulator sum = new Accumulator();
        for (int i = begin; i < end; i++) sum.add(ids, i * Negentropy.ID_SIZE);
        return sum.fingerprint(end - begin);
    }

    private void checkIndex(int index) {
        if (index < 0 || index >= size) throw new IndexOutOfBoundsException(index);
    }

    private void checkRange(int begin, int end) {
        if (begin < 0 || begin > end || end > size) throw new IndexOutOfBoundsException("bad range " + begin + ".." + end);
    }

    public static final class Builder {
        private long[] timestamps = new long[256];
        private byte[] ids = new byte[256 * Negentropy.ID_SIZE];
        private int size;
        private boolean sorted = true;

        private Builder() {}

        public int size() {
            return size;
        }

        /** Adds one item; {@code createdAt} must be below 2^64-1, which the protocol reserves. */
        public Builder add(long createdAt, byte[] id) {
            if (id.length != Negentropy.ID_SIZE) throw new IllegalArgumentException("id must be 32 bytes");
            if (createdAt == Bound.INFINITY_TIMESTAMP) throw new IllegalArgumentException("timestamp 2^64-1 is reserved");
            if (size == timestamps.length) {
                timestamps = Arrays.copyOf(timestamps, size * 2);
                ids = Arrays.copyOf(ids, size * 2 * Negentropy.ID_SIZE);
            }
            timestamps[size] = createdAt;
            System.arraycopy(id, 0, ids, size * Negentropy.ID_SIZE, Negentropy.ID_SIZE);
            if (sorted && size > 0 && compare(timestamps, ids, size - 1, size) > 0) sorted = false;
            size++;
            return this;
        }

        /** Sorts if items came out of order; refuses duplicates. */
        public VectorStorage build() {
            long[] ts = timestamps;
            byte[] idBytes = ids;
            if (!sorted) {
                long[] unsortedTs = timestamps;
                byte[] unsortedIds = ids;
                Integer[] order = IntStream.range(0, size).boxed().toArray(Integer[]::new);
                Arrays.sort(order, Comparator.comparing(i -> i, (a, b) -> compare(unsortedTs, unsortedIds, a, b)));
                ts = new long[size];
                idBytes = new byte[size * Negentropy.ID_SIZE];
                for (int i = 0; i < size; i++) {
                    ts[i] = unsortedTs[order[i]];
                    System.arraycopy(unsortedIds, order[i] * Negentropy.ID_SIZE, idBytes, i * Negentropy.ID_SIZE, Negentropy.ID_SIZE);
                }
            }
            for (int i = 1; i < size; i++) {
                if (compare(ts, idBytes, i - 1, i) == 0) throw new IllegalArgumentException("duplicate item");
            }
            VectorStorage built = new VectorStorage(ts, idBytes, size);
            timestamps = new long[256];
            ids = new byte[256 * Negentropy.ID_SIZE];
            size = 0;
            sorted = true;
            return built;
        }

        private static int compare(long[] ts, byte[] ids, int a, int b) {
            int c = Long.compareUnsigned(ts[a], ts[b]);
            if (c != 0) return c;
            return Arrays.compareUnsigned(ids, a * Negentropy.ID_SIZE, (a + 1) * Negentropy.ID_SIZE,
                    ids, b * Negentropy.ID_SIZE, (b + 1) * Negentropy.ID_SIZE);
        }
    }
}
