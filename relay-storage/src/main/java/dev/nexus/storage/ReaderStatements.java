package dev.nexus.storage;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.sqlite.SQLiteConnection;

/**
 * Prepared statements of the read-only connections, kept per connection and reused by SQL text.
 * Filters of one shape (the same fields, the same number of values) give the same SQL, so a relay's
 * REQs mostly re-run a few dozen statements; compiling each anew cost about an eighth of a query
 * worker's time in W3 (issue 16 profile). Each connection keeps its {@value #PER_CONNECTION} most
 * recently used statements (a REQ shape can use two: by time, and the one second where ties straddle
 * its limit); a statement is only ever used by the thread that holds its connection.
 * Closing a connection (the pool retiring it, the store closing) finalizes its statements.
 */
final class ReaderStatements {
    static final int PER_CONNECTION = 128;

    /** Keyed by the pool's physical connection (not the pool's per-borrow proxy). */
    private final Map<SQLiteConnection, Cache> caches = new ConcurrentHashMap<>();

    /**
     * A prepared statement for this SQL on the borrowed connection, parameters cleared; the caller
     * must not close it (closing its ResultSet resets it for the next use), and calls
     * {@link #discard} if it failed, so that an interrupted statement is not reused.
     */
    PreparedStatement prepare(Connection borrowed, String sql) throws SQLException {
        SQLiteConnection physical = borrowed.unwrap(SQLiteConnection.class);
        Cache cache = caches.get(physical);
        if (cache == null) {
            // A new physical connection means the pool retired one: drop the caches of closed ones.
            caches.keySet().removeIf(ReaderStatements::isClosed);
            cache = new Cache();
            caches.put(physical, cache);
        }
        PreparedStatement ps = cache.get(sql);
        if (ps == null || ps.isClosed()) {
            ps = physical.prepareStatement(sql);
            cache.put(sql, ps);
        } else {
            ps.clearParameters();
        }
        return ps;
    }

    void discard(Connection borrowed, String sql) {
        try {
            Cache cache = caches.get(borrowed.unwrap(SQLiteConnection.class));
            PreparedStatement ps = cache == null ? null : cache.remove(sql);
            if (ps != null) ps.close();
        } catch (SQLException ignored) {
            // the statement goes with its connection
        }
    }

    int cachedOn(Connection borrowed) throws SQLException {
        Cache cache = caches.get(borrowed.unwrap(SQLiteConnection.class));
        return cache == null ? 0 : cache.size();
    }

    private static boolean isClosed(SQLiteConnection c) {
        try {
            return c.isClosed();
        } catch (SQLException e) {
            return true;
        }
    }

    /** Least recently used statements are closed once the connection holds more than the bound. */
    private static final class Cache extends LinkedHashMap<String, PreparedStatement> {
        Cache() {
            super(16, 0.75f, true);
        }

        @Override
        protected boolean removeEldestEntry(Map.Entry<String, PreparedStatement> eldest) {
            if (size() <= PER_CONNECTION) return false;
            try {
                eldest.getValue().close();
            } catch (SQLException ignored) {
                // finalized with the connection at the latest
            }
            return true;
        }
    }
}
