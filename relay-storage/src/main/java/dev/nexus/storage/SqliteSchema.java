package dev.nexus.storage;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;

/**
 * The SQLite layout (after nostr-rs-relay): one row per event with its wire JSON, one row per
 * single-letter tag carrying the event's kind and created_at so tag queries are answered from
 * the tag index alone. Versioned through {@code PRAGMA user_version}; each migration step is
 * applied once, in order, inside a transaction.
 */
final class SqliteSchema {
    static final int VERSION = 2;

    private static final String[] V1 = {
        """
        CREATE TABLE event (
          seq INTEGER PRIMARY KEY,
          id TEXT NOT NULL UNIQUE,
          pubkey TEXT NOT NULL,
          created_at INTEGER NOT NULL,
          kind INTEGER NOT NULL,
          d_tag TEXT,
          expires_at INTEGER,
          raw TEXT NOT NULL
        )""",
        "CREATE INDEX event_created ON event(created_at DESC, id)",
        "CREATE INDEX event_kind_created ON event(kind, created_at DESC, id)",
        "CREATE INDEX event_pubkey_created ON event(pubkey, created_at DESC, id)",
        "CREATE INDEX event_pubkey_kind ON event(pubkey, kind, d_tag, created_at DESC)",
        "CREATE INDEX event_expires ON event(expires_at) WHERE expires_at IS NOT NULL",
        // Marketplace lane: NIP-90 jobs, results and feedback get a small index of their own, so the
        // provider's "new jobs of kind K since T" query never walks the social traffic.
        "CREATE INDEX event_marketplace ON event(kind, created_at DESC, id) WHERE kind >= 5000 AND kind <= 7000",
        """
        CREATE TABLE tag (
          event_seq INTEGER NOT NULL,
          name TEXT NOT NULL,
          value TEXT NOT NULL,
          kind INTEGER NOT NULL,
          created_at INTEGER NOT NULL
        )""",
        "CREATE INDEX tag_lookup ON tag(name, value, kind, created_at DESC, event_seq)",
        "CREATE INDEX tag_event ON tag(event_seq)",
        // NIP-09 tombstones: a deleted id cannot be published again by the pubkey that deleted it
        // (keyed by both, so someone else's deletion request cannot pre-empt the author's).
        "CREATE TABLE deleted_event (id TEXT NOT NULL, pubkey TEXT NOT NULL, PRIMARY KEY (id, pubkey)) WITHOUT ROWID",
        // NIP-09 `a` deletions: versions of an address up to `until` stay deleted.
        """
        CREATE TABLE deleted_address (
          kind INTEGER NOT NULL, pubkey TEXT NOT NULL, d_tag TEXT NOT NULL, until INTEGER NOT NULL,
          PRIMARY KEY (kind, pubkey, d_tag)
        ) WITHOUT ROWID"""
    };

    /** NIP-86 moderation state (see {@link Moderation}). */
    private static final String[] V2 = {
        """
        CREATE TABLE moderation (
          category TEXT NOT NULL, value TEXT NOT NULL, reason TEXT NOT NULL DEFAULT '',
          PRIMARY KEY (category, value)
        ) WITHOUT ROWID"""
    };

    private SqliteSchema() {}

    static void migrate(Connection c) throws SQLException {
        int version;
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("PRAGMA user_version")) {
            version = rs.next() ? rs.getInt(1) : 0;
        }
        if (version > VERSION) {
            throw new SQLException("database schema version " + version + " is newer than this relay understands (" + VERSION + ")");
        }
        if (version < 1) apply(c, V1, 1);
        if (version < 2) apply(c, V2, 2);
    }

    private static void apply(Connection c, String[] statements, int newVersion) throws SQLException {
        try (Statement s = c.createStatement()) {
            for (String sql : statements) s.execute(sql);
            s.execute("PRAGMA user_version = " + newVersion);
        }
        c.commit();
    }
}
