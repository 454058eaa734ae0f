package dev.nexus.storage.postgres;

/**
 * Advisory lock keys. Nexus's own locks use the two-int form under one namespace; per-author
 * write locks use the single-bigint form, a key space PostgreSQL keeps apart from the two-int one.
 */
final class Locks {
    /** "NEXS" */
    static final int NAMESPACE = 0x4E455853;
    /** Session lock around schema migration: one node migrates, the others wait. */
    static final int MIGRATION = 1;
    /** Transaction lock held from handing out live-feed sequence numbers until commit. */
    static final int FEED = 2;
    /** Transaction lock that lets one node at a time prune the live feed. */
    static final int FEED_PRUNE = 3;

    private Locks() {}

    /** The per-author write lock key: the pubkey's first 64 bits (a collision only serializes two authors). */
    static long author(String pubkey) {
        return Long.parseUnsignedLong(pubkey.substring(0, 16), 16);
    }
}
