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

    /** Blocks until {@code c}'s transaction holds the write lock of every author in {@code events}. */
    static void lockAuthors(java.sql.Connection c, java.util.List<dev.nexus.core.Event> events) throws java.sql.SQLException {
        java.util.Set<Long> keys = new java.util.TreeSet<>(Long::compareUnsigned);
        for (dev.nexus.core.Event e : events) keys.add(author(e.pubkey()));
        if (keys.isEmpty()) return;
        Long[] ordered = keys.toArray(new Long[0]);
        // unnest yields the array in order, so the locks are taken in that order.
        try (java.sql.PreparedStatement ps = c.prepareStatement("SELECT pg_advisory_xact_lock(k) FROM unnest(?::bigint[]) AS k")) {
            ps.setArray(1, c.createArrayOf("int8", ordered));
            try (java.sql.ResultSet rs = ps.executeQuery()) {
                while (rs.next()) { /* one row per lock taken */ }
            }
        }
    }
}
