package dev.nexus.storage.postgres;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;

/**
 * The PostgreSQL layout: the same tables and index intent as SQLite's (one row per event with its
 * wire JSON, one row per single-letter tag carrying kind and created_at, NIP-09 tombstones), plus
 * the live feed that carries every commit, in commit order, to every node.
 *
 * <p>Versioned in {@code nexus_schema}; each step runs once, in order, in its own transaction.
 * Several nodes may start at the same moment: the whole check-and-migrate runs under a session
 * advisory lock, so one node migrates and the others wait, then find nothing to do.
 *
 * <p>Hex ids, pubkeys and tag values use the "C" collation: byte order is exactly the NIP-01
 * tie-break order (lowest id first), and comparisons skip the locale's rules.
 */
final class PostgresSchema {
    static final int VERSION = 2;

    private static final String[] V1 = {
        """
        CREATE TABLE event (
          seq bigserial PRIMARY KEY,
          id text COLLATE "C" NOT NULL UNIQUE,
          pubkey text COLLATE "C" NOT NULL,
          created_at bigint NOT NULL,
          kind integer NOT NULL,
          d_tag text COLLATE "C",
          expires_at bigint,
          raw text NOT NULL
        )""",
        "CREATE INDEX event_created ON event (created_at DESC, id)",
        "CREATE INDEX event_kind_created ON event (kind, created_at DESC, id)",
        "CREATE INDEX event_pubkey_created ON event (pubkey, created_at DESC, id)",
        "CREATE INDEX event_pubkey_kind ON event (pubkey, kind, d_tag, created_at DESC)",
        "CREATE INDEX event_expires ON event (expires_at) WHERE expires_at IS NOT NULL",
        // Marketplace lane: NIP-90 jobs, results and feedback in a small index of their own.
        "CREATE INDEX event_marketplace ON event (kind, created_at DESC, id) WHERE kind >= 5000 AND kind <= 7000",
        """
        CREATE TABLE tag (
          event_seq bigint NOT NULL REFERENCES event (seq) ON DELETE CASCADE,
          name text COLLATE "C" NOT NULL,
          value text COLLATE "C" NOT NULL,
          kind integer NOT NULL,
          created_at bigint NOT NULL
        )""",
        "CREATE INDEX tag_lookup ON tag (name, value, kind, created_at DESC, event_seq)",
        "CREATE INDEX tag_event ON tag (event_seq)",
        // NIP-09: a deleted id cannot come back from the pubkey that deleted it.
        "CREATE TABLE deleted_event (id text COLLATE \"C\" NOT NULL, pubkey text COLLATE \"C\" NOT NULL, PRIMARY KEY (id, pubkey))",
        // NIP-09 `a` deletions: versions of an address up to `until` stay deleted.
        """
        CREATE TABLE deleted_address (
          kind integer NOT NULL, pubkey text COLLATE "C" NOT NULL, d_tag text COLLATE "C" NOT NULL, until bigint NOT NULL,
          PRIMARY KEY (kind, pubkey, d_tag)
        )""",
        // The cluster's live feed: every commit (and every ephemeral event) with a sequence number
        // handed out under a lock held until commit, so sequence order is commit order. Rows are
        // pruned after a few minutes; they exist to be read by the nodes' feed readers.
        """
        CREATE TABLE live_feed (
          seq bigint PRIMARY KEY,
          stored boolean NOT NULL,
          raw text NOT NULL,
          committed_at timestamptz NOT NULL DEFAULT now()
        )""",
        "CREATE SEQUENCE live_feed_seq",
        "CREATE INDEX live_feed_committed ON live_feed (committed_at)"
    };

    /** NIP-86 moderation state (see {@code dev.nexus.storage.Moderation}). */
    private static final String[] V2 = {
        """
        CREATE TABLE moderation (
          category text COLLATE "C" NOT NULL, value text COLLATE "C" NOT NULL, reason text NOT NULL DEFAULT '',
          PRIMARY KEY (category, value)
        )"""
    };

    private PostgresSchema() {}

    static void migrate(Connection c) throws SQLException {
        boolean autoCommit = c.getAutoCommit();
        c.setAutoCommit(true);
        try (Statement s = c.createStatement()) {
            s.execute("SELECT pg_advisory_lock(" + Locks.NAMESPACE + ", " + Locks.MIGRATION + ")");
            try {
                s.execute("CREATE TABLE IF NOT EXISTS nexus_schema (version integer NOT NULL)");
                int version;
                try (ResultSet rs = s.executeQuery("SELECT coalesce(max(version), 0) FROM nexus_schema")) {
                    rs.next();
                    version = rs.getInt(1);
                }
                if (version > VERSION) {
                    throw new SQLException("database schema version " + version + " is newer than this relay understands (" + VERSION + ")");
                }
                if (version < 1) apply(c, V1, 1);
                if (version < 2) apply(c, V2, 2);
            } finally {
                s.execute("SELECT pg_advisory_unlock(" + Locks.NAMESPACE + ", " + Locks.MIGRATION + ")");
            }
        } finally {
            c.setAutoCommit(autoCommit);
        }
    }

    private static void apply(Connection c, String[] statements, int newVersion) throws SQLException {
        c.setAutoCommit(false);
        try (Statement s = c.createStatement()) {
            for (String sql : statements) s.execute(sql);
            s.execute("INSERT INTO nexus_schema (version) VALUES (" + newVersion + ")");
            c.commit();
        } catch (SQLException e) {
            c.rollback();
            throw e;
        } finally {
            c.setAutoCommit(true);
        }
    }
}
