package dev.nexus.storage.postgres;

import dev.nexus.core.Event;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.List;

/** The writer's half of the cluster feed: what a committing batch adds to {@code live_feed}. */
final class PostgresFeedAppend {
    private PostgresFeedAppend() {}

    /**
     * Appends this transaction's live events to the cluster feed. The feed lock is held from here
     * until commit, so the sequence numbers handed out are in commit order across every node: a
     * reader that has seen seq N can never later find a committed row below N. The NOTIFY is sent
     * at commit and only wakes the readers; they read by sequence, so coalesced or lost
     * notifications cost latency, never events.
     */
    static void append(Connection c, List<Event> events, List<Boolean> stored) throws SQLException {
        try (PreparedStatement lock = c.prepareStatement("SELECT pg_advisory_xact_lock(" + Locks.NAMESPACE + ", " + Locks.FEED + ")")) {
            lock.execute();
        }
        String[] raws = new String[events.size()];
        for (int i = 0; i < raws.length; i++) raws[i] = events.get(i).json();
        try (PreparedStatement ps = c.prepareStatement("""
                WITH added AS (
                  INSERT INTO live_feed (seq, stored, raw)
                  SELECT nextval('live_feed_seq'), s, r FROM unnest(?::boolean[], ?::text[]) WITH ORDINALITY AS t(s, r, n) ORDER BY n
                  RETURNING seq)
                SELECT pg_notify('""" + PostgresLiveFeed.CHANNEL + "', max(seq)::text) FROM added")) {
            ps.setArray(1, c.createArrayOf("bool", stored.toArray()));
            ps.setArray(2, c.createArrayOf("text", raws));
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) { /* the notify */ }
            }
        }
    }
}
