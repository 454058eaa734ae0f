package dev.nexus.core.nip77;

/**
 * The items one side reconciles, sorted by (timestamp, id) with no duplicates, addressed by index.
 * {@link VectorStorage} holds them in arrays; an implementation over a tree with per-node sums
 * could answer {@link #fingerprint} without visiting every item.
 */
public interface NegentropyStorage {
    int size();

    long timestamp(int index);

    /** Copies the 32-byte id of item {@code index} into {@code dst} at {@code offset}. */
    void copyId(int index, byte[] dst, int offset);

    /** The first index in [begin, end) whose item is not below {@code bound}, or {@code end}. */
    int findLowerBound(int begin, int end, Bound bound);

    /** The NIP-77 fingerprint of the items in [begin, end). */
    byte[] fingerprint(int begin, int end);
}
