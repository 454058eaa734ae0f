package dev.nexus.storage;

import dev.nexus.core.Event;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The SQLite writer's side of {@link StoreTransaction}: the writer connection's prepared statements,
 * prepared once and used only by the writer thread, inside its open transaction.
 */
final class WriterStatements implements StoreTransaction, AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(WriterStatements.class);

    private final PreparedStatement exists, tombstoned, addressDeleted, versions, insertEvent, insertTag,
            lastRowid, deleteEvent, eventKey, deleteTag, deleteTagsByScan, findOwn, tombstone, findAddress, upsertAddressDeletion, expired;
    private final List<PreparedStatement> all = new ArrayList<>();

    /** Operator-banned event ids, owned by the writer thread. */
    private final java.util.Set<String> bannedEventIds;

    WriterStatements(Connection c, java.util.Set<String> bannedEventIds) throws SQLException {
        this.bannedEventIds = bannedEventIds;
        exists = prep(c, "SELECT 1 FROM event WHERE id = ?");
        tombstoned = prep(c, "SELECT 1 FROM deleted_event WHERE id = ? AND pubkey = ?");
        addressDeleted = prep(c, "SELECT until FROM deleted_address WHERE kind = ? AND pubkey = ? AND d_tag = ?");
        versions = prep(c, "SELECT seq, created_at, id FROM event WHERE pubkey = ? AND kind = ? AND d_tag = ?");
        // The insert finds a duplicate itself (no row changed: the id is stored), so the id index is probed
        // once per event, not twice (WriteRules); the separate probe was 7% of the writer's samples in W1.
        // OR IGNORE can only meet the id: the other NOT NULL columns always have a value here. Measured and
        // dropped: "ON CONFLICT (id) DO NOTHING RETURNING seq" instead of the rowid query cost ≈ 15% more.
        insertEvent = prep(c, "INSERT OR IGNORE INTO event (id, pubkey, created_at, kind, d_tag, expires_at, raw) VALUES (?, ?, ?, ?, ?, ?, ?)");
        // The connection has the driver's generated keys off (SqliteEventStore): this is the rowid of the event just inserted.
        lastRowid = prep(c, "SELECT last_insert_rowid()");
        // OR IGNORE: two values that differ in Java can be one key in SQLite (the driver stores every lone
        // surrogate as '?'), and one event's duplicate key must not fail the batch it shares with others.
        insertTag = prep(c, "INSERT OR IGNORE INTO tag (event_seq, name, value, kind, created_at) VALUES (?, ?, ?, ?, ?)");
        deleteEvent = prep(c, "DELETE FROM event WHERE seq = ?");
        // The tag table is keyed by (name, value, kind, created_at, event): an event's keys come from its own row (TagKeys).
        eventKey = prep(c, "SELECT kind, created_at, raw FROM event WHERE seq = ?");
        deleteTag = prep(c, TagKeys.DELETE_BY_KEY);
        deleteTagsByScan = prep(c, TagKeys.DELETE_BY_SCAN);
        findOwn = prep(c, "SELECT seq, kind FROM event WHERE id = ? AND pubkey = ?");
        tombstone = prep(c, "INSERT OR IGNORE INTO deleted_event (id, pubkey) VALUES (?, ?)");
        findAddress = prep(c, "SELECT seq FROM event WHERE pubkey = ? AND kind = ? AND d_tag = ? AND created_at <= ?");
        upsertAddressDeletion = prep(c, "INSERT INTO deleted_address (kind, pubkey, d_tag, until) VALUES (?, ?, ?, ?) "
                + "ON CONFLICT (kind, pubkey, d_tag) DO UPDATE SET until = MAX(until, excluded.until)");
        expired = prep(c, "SELECT seq FROM event WHERE expires_at IS NOT NULL AND expires_at <= ? ORDER BY expires_at LIMIT ?");
    }

    private PreparedStatement prep(Connection c, String sql) throws SQLException {
        PreparedStatement ps = c.prepareStatement(sql);
        all.add(ps);
        return ps;
    }

    @Override
    public boolean isBanned(String id) {
        return bannedEventIds.contains(id);
    }

    @Override
    public boolean contains(String id) throws SQLException {
        exists.setString(1, id);
        try (ResultSet rs = exists.executeQuery()) {
            return rs.next();
        }
    }

    @Override
    public boolean isTombstoned(String id, String pubkey) throws SQLException {
        tombstoned.setString(1, id);
        tombstoned.setString(2, pubkey);
        try (ResultSet rs = tombstoned.executeQuery()) {
            return rs.next();
        }
    }

    @Override
    public Long addressDeletedUntil(int kind, String pubkey, String dTag) throws SQLException {
        addressDeleted.setInt(1, kind);
        addressDeleted.setString(2, pubkey);
        addressDeleted.setString(3, dTag);
        try (ResultSet rs = addressDeleted.executeQuery()) {
            return rs.next() ? rs.getLong(1) : null;
        }
    }

    @Override
    public List<Version> versions(String pubkey, int kind, String dTag) throws SQLException {
        versions.setString(1, pubkey);
        versions.setInt(2, kind);
        versions.setString(3, dTag);
        List<Version> out = new ArrayList<>(1);
        try (ResultSet rs = versions.executeQuery()) {
            while (rs.next()) out.add(new Version(rs.getLong(1), rs.getString(3), rs.getLong(2)));
        }
        return out;
    }

    @Override
    public void delete(Version version) throws SQLException {
        delete(version.handle());
    }

    @Override
    public boolean insert(Event e, String dTag, Long expiresAt) throws SQLException {
        long seq = insertRow(e, dTag, expiresAt);
        if (seq < 0) return false;
        insertTags(seq, e);
        return true;
    }

    /** The new row's seq, or -1 when an event with this id is stored already. */
    private long insertRow(Event e, String dTag, Long expiresAt) throws SQLException {
        insertEvent.setString(1, e.id());
        insertEvent.setString(2, e.pubkey());
        insertEvent.setLong(3, e.createdAt());
        insertEvent.setInt(4, e.kind());
        insertEvent.setString(5, dTag);
        if (expiresAt == null) insertEvent.setNull(6, java.sql.Types.INTEGER);
        else insertEvent.setLong(6, expiresAt);
        insertEvent.setString(7, e.json());
        if (insertEvent.executeUpdate() == 0) return -1;
        try (ResultSet rs = lastRowid.executeQuery()) {
            rs.next();
            return rs.getLong(1);
        }
    }

    /**
     * Only single-letter tags are queryable (NIP-01 `#x`), so only they are indexed, each
     * (name, value) once per event so that a query driven by one tag value never sees an event twice.
     */
    private void insertTags(long seq, Event e) throws SQLException {
        boolean any = false;
        java.util.Set<String> seen = new java.util.HashSet<>();
        for (List<String> tag : e.tags()) {
            if (tag.size() < 2 || tag.get(0).length() != 1) continue;
            if (!seen.add(tag.get(0) + '\u0000' + tag.get(1))) continue;
            insertTag.setLong(1, seq);
            insertTag.setString(2, tag.get(0));
            insertTag.setString(3, tag.get(1));
            insertTag.setInt(4, e.kind());
            insertTag.setLong(5, e.createdAt());
            insertTag.addBatch();
            any = true;
        }
        if (any) insertTag.executeBatch();
    }

    void delete(long seq) throws SQLException {
        eventKey.setLong(1, seq);
        try (ResultSet rs = eventKey.executeQuery()) {
            if (!rs.next()) return;
            if (!TagKeys.deleteRows(deleteTag, deleteTagsByScan, seq, rs.getInt(1), rs.getLong(2), rs.getString(3))) {
                log.warn("stored event {} has unreadable JSON; its tags were removed by a scan of the tag table", seq);
            }
        }
        deleteEvent.setLong(1, seq);
        deleteEvent.executeUpdate();
    }

    @Override
    public void deleteOwnEvent(String id, String pubkey) throws SQLException {
        findOwn.setString(1, id);
        findOwn.setString(2, pubkey);
        Long seq = null;
        try (ResultSet rs = findOwn.executeQuery()) {
            // A deletion cannot delete a deletion (NIP-09).
            if (rs.next() && rs.getInt(2) != dev.nexus.core.Kinds.DELETION) seq = rs.getLong(1);
        }
        if (seq != null) delete(seq);
    }

    @Override
    public void tombstone(String id, String pubkey) throws SQLException {
        tombstone.setString(1, id);
        tombstone.setString(2, pubkey);
        tombstone.executeUpdate();
    }

    @Override
    public void deleteAddress(int kind, String pubkey, String dTag, long until) throws SQLException {
        findAddress.setString(1, pubkey);
        findAddress.setInt(2, kind);
        findAddress.setString(3, dTag);
        findAddress.setLong(4, until);
        List<Long> seqs = new ArrayList<>();
        try (ResultSet rs = findAddress.executeQuery()) {
            while (rs.next()) seqs.add(rs.getLong(1));
        }
        for (long seq : seqs) delete(seq);
        upsertAddressDeletion.setInt(1, kind);
        upsertAddressDeletion.setString(2, pubkey);
        upsertAddressDeletion.setString(3, dTag);
        upsertAddressDeletion.setLong(4, until);
        upsertAddressDeletion.executeUpdate();
    }

    int deleteExpired(long now, int batch) throws SQLException {
        expired.setLong(1, now);
        expired.setInt(2, batch);
        List<Long> seqs = new ArrayList<>();
        try (ResultSet rs = expired.executeQuery()) {
            while (rs.next()) seqs.add(rs.getLong(1));
        }
        for (long seq : seqs) delete(seq);
        return seqs.size();
    }

    @Override
    public void close() throws SQLException {
        for (PreparedStatement ps : all) ps.close();
    }
}
