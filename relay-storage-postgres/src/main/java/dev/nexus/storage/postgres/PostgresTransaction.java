package dev.nexus.storage.postgres;

import dev.nexus.core.Event;
import dev.nexus.core.Kinds;
import dev.nexus.storage.Moderation;
import dev.nexus.storage.StoreTransaction;
import java.sql.Array;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Types;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * One writer transaction on PostgreSQL: the PostgreSQL dialect of {@link StoreTransaction}, over
 * which {@link dev.nexus.storage.WriteRules} applies the NIP-01/09 rules (the same rules as SQLite's).
 *
 * <p>Why this is correct when several nodes write at once: the transaction first takes ({@link Locks#lockAuthors}) a
 * transaction-scoped advisory lock per author in its batch, in ascending key order. Every rule
 * that can conflict stays within one pubkey: a replaceable or addressable address is
 * kind:pubkey:d; a NIP-09 deletion removes and tombstones only its author's own events and
 * addresses; the same id always has the same pubkey. So two nodes' transactions that could
 * disagree are serialized, and the second one, running in READ COMMITTED, sees the first's
 * commit in each following statement. Taking all of a batch's locks up front, in one global order,
 * means two nodes can never wait for each other in a cycle. The unique id is the backstop for
 * duplicates.
 */
final class PostgresTransaction implements StoreTransaction {

    private static final String INSERT = """
            WITH e AS (
              INSERT INTO event (id, pubkey, created_at, kind, d_tag, expires_at, raw) VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING seq)
            INSERT INTO tag (event_seq, name, value, kind, created_at)
            SELECT e.seq, t.name, t.value, ?, ? FROM e, unnest(?::text[], ?::text[]) AS t(name, value)""";

    private final Connection c;
    private final Set<String> bannedEventIds;
    /** Ids stored now, as far as this transaction knows: read once for the batch, then kept current. */
    private final Set<String> stored = new HashSet<>();
    /** NIP-09 tombstones (id, pubkey) for the batch's ids, likewise. */
    private final Set<String> tombstoned = new HashSet<>();
    /** The batch's ids that the moderation table bans. */
    private final Set<String> bannedHere = new HashSet<>();
    /** Inserts of plain events, sent to the server in one pipelined round trip. */
    private PreparedStatement pendingInserts;
    private int pending;

    PostgresTransaction(Connection c, Set<String> bannedEventIds) {
        this.c = c;
        this.bannedEventIds = bannedEventIds;
    }

    /**
     * Reads, in two statements, which of the batch's ids are already stored or tombstoned. Under the
     * author locks no other node can change that for these ids until this transaction ends, so the
     * per-event checks need no round trip of their own.
     */
    void prefetch(List<Event> events) throws SQLException {
        if (events.isEmpty()) return;
        String[] ids = new String[events.size()];
        for (int i = 0; i < ids.length; i++) ids[i] = events.get(i).id();
        Array idArray = c.createArrayOf("text", ids);
        try (PreparedStatement ps = c.prepareStatement("SELECT id FROM event WHERE id = ANY(?)")) {
            ps.setArray(1, idArray);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) stored.add(rs.getString(1));
            }
        }
        // Tombstones, and bans another node's operator made since this node last read the moderation
        // table (its in-memory set catches up within seconds; the table is the truth at once).
        try (PreparedStatement ps = c.prepareStatement("SELECT id, pubkey FROM deleted_event WHERE id = ANY(?) "
                + "UNION ALL SELECT value, NULL FROM moderation WHERE category = '" + Moderation.BANNED_EVENT + "' AND value = ANY(?)")) {
            ps.setArray(1, idArray);
            ps.setArray(2, idArray);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    String pubkey = rs.getString(2);
                    if (pubkey == null) bannedHere.add(rs.getString(1));
                    else tombstoned.add(rs.getString(1) + ':' + pubkey);
                }
            }
        }
    }

    /** Sends the queued plain inserts; called before anything that must see them, and before the feed append. */
    void flush() throws SQLException {
        if (pending == 0) return;
        pendingInserts.executeBatch();
        pending = 0;
    }

    @Override
    public boolean isBanned(String id) {
        return bannedEventIds.contains(id) || bannedHere.contains(id);
    }

    /**
     * PostgreSQL text cannot hold U+0000. The wire JSON escapes it, but indexed tag values and the
     * d tag are stored decoded, so such an event is refused rather than altered.
     */
    @Override
    public String unstorable(Event e) {
        for (List<String> tag : e.tags()) {
            if (tag.size() < 2 || tag.get(0).length() != 1) continue;
            if (tag.get(0).indexOf('\u0000') >= 0 || tag.get(1).indexOf('\u0000') >= 0) {
                return "tag values containing U+0000 cannot be stored here";
            }
        }
        return null;
    }

    @Override
    public boolean contains(String id) {
        return stored.contains(id);
    }

    @Override
    public boolean isTombstoned(String id, String pubkey) {
        return tombstoned.contains(id + ':' + pubkey);
    }

    @Override
    public Long addressDeletedUntil(int kind, String pubkey, String dTag) throws SQLException {
        flush();
        try (PreparedStatement ps = c.prepareStatement("SELECT until FROM deleted_address WHERE kind = ? AND pubkey = ? AND d_tag = ?")) {
            ps.setInt(1, kind);
            ps.setString(2, pubkey);
            ps.setString(3, dTag);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? rs.getLong(1) : null;
            }
        }
    }

    @Override
    public List<Version> versions(String pubkey, int kind, String dTag) throws SQLException {
        flush();
        try (PreparedStatement ps = c.prepareStatement("SELECT seq, created_at, id FROM event WHERE pubkey = ? AND kind = ? AND d_tag = ?")) {
            ps.setString(1, pubkey);
            ps.setInt(2, kind);
            ps.setString(3, dTag);
            List<Version> out = new ArrayList<>(1);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) out.add(new Version(rs.getLong(1), rs.getString(3), rs.getLong(2)));
            }
            return out;
        }
    }

    /** Tags go with their event (ON DELETE CASCADE). */
    @Override
    public void delete(Version version) throws SQLException {
        flush();
        try (PreparedStatement ps = c.prepareStatement("DELETE FROM event WHERE seq = ?")) {
            ps.setLong(1, version.handle());
            ps.executeUpdate();
        }
        stored.remove(version.id());
    }

    /**
     * The event row and its single-letter tags (each (name, value) once per event) in one
     * statement: the tag rows take the new row's seq from the INSERT's RETURNING. Inserts are
     * queued and sent together by {@link #flush}, which every read of this transaction calls first.
     */
    @Override
    public boolean insert(Event e, String dTag, Long expiresAt) throws SQLException {
        if (stored.contains(e.id())) return false; // the batch's stored ids were read up front (see above)
        List<String> names = new ArrayList<>(), values = new ArrayList<>();
        Set<String> seen = new HashSet<>();
        for (List<String> tag : e.tags()) {
            if (tag.size() < 2 || tag.get(0).length() != 1) continue;
            if (!seen.add(tag.get(0) + '\u0000' + tag.get(1))) continue;
            names.add(tag.get(0));
            values.add(tag.get(1));
        }
        if (pendingInserts == null) pendingInserts = c.prepareStatement(INSERT);
        PreparedStatement ps = pendingInserts;
        ps.setString(1, e.id());
        ps.setString(2, e.pubkey());
        ps.setLong(3, e.createdAt());
        ps.setInt(4, e.kind());
        ps.setString(5, dTag);
        if (expiresAt == null) ps.setNull(6, Types.BIGINT);
        else ps.setLong(6, expiresAt);
        ps.setString(7, e.json());
        ps.setInt(8, e.kind());
        ps.setLong(9, e.createdAt());
        ps.setArray(10, c.createArrayOf("text", names.toArray()));
        ps.setArray(11, c.createArrayOf("text", values.toArray()));
        stored.add(e.id());
        ps.addBatch();
        pending++;
        return true;
    }

    @Override
    public void deleteOwnEvent(String id, String pubkey) throws SQLException {
        if (id.indexOf('\u0000') >= 0) return;
        flush();
        try (PreparedStatement ps = c.prepareStatement(
                // A deletion cannot delete a deletion (NIP-09).
                "DELETE FROM event WHERE id = ? AND pubkey = ? AND kind <> " + Kinds.DELETION + " RETURNING id")) {
            ps.setString(1, id);
            ps.setString(2, pubkey);
            forgetDeleted(ps);
        }
    }

    @Override
    public void tombstone(String id, String pubkey) throws SQLException {
        if (id.indexOf('\u0000') >= 0) return;
        tombstoned.add(id + ':' + pubkey);
        try (PreparedStatement ps = c.prepareStatement("INSERT INTO deleted_event (id, pubkey) VALUES (?, ?) ON CONFLICT DO NOTHING")) {
            ps.setString(1, id);
            ps.setString(2, pubkey);
            ps.executeUpdate();
        }
    }

    @Override
    public void deleteAddress(int kind, String pubkey, String dTag, long until) throws SQLException {
        if (dTag.indexOf('\u0000') >= 0) return;
        flush();
        try (PreparedStatement ps = c.prepareStatement("DELETE FROM event WHERE pubkey = ? AND kind = ? AND d_tag = ? AND created_at <= ? RETURNING id")) {
            ps.setString(1, pubkey);
            ps.setInt(2, kind);
            ps.setString(3, dTag);
            ps.setLong(4, until);
            forgetDeleted(ps);
        }
        try (PreparedStatement ps = c.prepareStatement("INSERT INTO deleted_address (kind, pubkey, d_tag, until) VALUES (?, ?, ?, ?) "
                + "ON CONFLICT (kind, pubkey, d_tag) DO UPDATE SET until = GREATEST(deleted_address.until, excluded.until)")) {
            ps.setInt(1, kind);
            ps.setString(2, pubkey);
            ps.setString(3, dTag);
            ps.setLong(4, until);
            ps.executeUpdate();
        }
    }

    private void forgetDeleted(PreparedStatement deleteReturningId) throws SQLException {
        try (ResultSet rs = deleteReturningId.executeQuery()) {
            while (rs.next()) stored.remove(rs.getString(1));
        }
    }
}
