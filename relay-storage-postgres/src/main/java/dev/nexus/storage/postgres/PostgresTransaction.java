package dev.nexus.storage.postgres;

import dev.nexus.core.Event;
import dev.nexus.core.Kinds;
import dev.nexus.storage.RetentionPolicy;
import dev.nexus.storage.WriteResult;
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
import java.util.TreeSet;

/**
 * One writer transaction on PostgreSQL: the NIP-01/09 write rules (the same as SQLite's
 * {@code SqliteEventStore.storeOne}) over this connection's statements.
 *
 * <p>Why this is correct when several nodes write at once: the transaction first takes a
 * transaction-scoped advisory lock per author in its batch, in ascending key order. Every rule
 * that can conflict stays within one pubkey: a replaceable or addressable address is
 * kind:pubkey:d; a NIP-09 deletion removes and tombstones only its author's own events and
 * addresses; the same id always has the same pubkey. So two nodes' transactions that could
 * disagree are serialized, and the second one, running in READ COMMITTED, sees the first's
 * commit in each following statement. Taking all of a batch's locks up front, in one global order,
 * means two nodes can never wait for each other in a cycle. The unique id is the backstop for
 * duplicates.
 */
final class PostgresTransaction {
    private record Version(long seq, long createdAt, String id) {}

    private static final String INSERT = """
            WITH e AS (
              INSERT INTO event (id, pubkey, created_at, kind, d_tag, expires_at, raw) VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING seq)
            INSERT INTO tag (event_seq, name, value, kind, created_at)
            SELECT e.seq, t.name, t.value, ?, ? FROM e, unnest(?::text[], ?::text[]) AS t(name, value)""";

    private final Connection c;
    private final RetentionPolicy retention;
    /** Ids stored now, as far as this transaction knows: read once for the batch, then kept current. */
    private final Set<String> stored = new HashSet<>();
    /** NIP-09 tombstones (id, pubkey) for the batch's ids, likewise. */
    private final Set<String> tombstoned = new HashSet<>();
    /** Inserts of plain events, sent to the server in one pipelined round trip. */
    private PreparedStatement pendingInserts;
    private int pending;

    PostgresTransaction(Connection c, RetentionPolicy retention) {
        this.c = c;
        this.retention = retention;
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
        try (PreparedStatement ps = c.prepareStatement("SELECT id, pubkey FROM deleted_event WHERE id = ANY(?)")) {
            ps.setArray(1, idArray);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) tombstoned.add(rs.getString(1) + ':' + rs.getString(2));
            }
        }
    }

    /** Sends the queued plain inserts; called before anything that must see them, and before the feed append. */
    void flush() throws SQLException {
        if (pending == 0) return;
        pendingInserts.executeBatch();
        pending = 0;
    }

    /** Blocks until this transaction holds the write lock of every author in {@code events}. */
    void lockAuthors(List<Event> events) throws SQLException {
        Set<Long> keys = new TreeSet<>(Long::compareUnsigned);
        for (Event e : events) keys.add(Locks.author(e.pubkey()));
        if (keys.isEmpty()) return;
        Long[] ordered = keys.toArray(new Long[0]);
        // unnest yields the array in order, so the locks are taken in that order.
        try (PreparedStatement ps = c.prepareStatement("SELECT pg_advisory_xact_lock(k) FROM unnest(?::bigint[]) AS k")) {
            ps.setArray(1, c.createArrayOf("int8", ordered));
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) { /* one row per lock taken */ }
            }
        }
    }

    /** Applies the NIP-01/09 rules to one event of the batch (after {@link #prefetch} of the whole batch). */
    WriteResult store(Event e) throws SQLException {
        String unstorable = unstorable(e);
        if (unstorable != null) return WriteResult.invalid(unstorable);
        if (stored.contains(e.id())) return WriteResult.ALREADY_STORED;
        if (tombstoned.contains(e.id() + ':' + e.pubkey())) return WriteResult.blocked("this event was deleted by its author");
        int kind = e.kind();
        boolean plain = !Kinds.isReplaceable(kind) && !Kinds.isAddressable(kind) && kind != Kinds.DELETION;
        if (plain) {
            insert(e, null, retention.expiresAt(e), true);
            return WriteResult.STORED;
        }
        flush();
        String dTag = null;
        if (Kinds.isReplaceable(kind) || Kinds.isAddressable(kind)) {
            dTag = Kinds.isAddressable(kind) ? e.dTag() : "";
            if (Kinds.isAddressable(kind)) {
                Long until = addressDeletedUntil(kind, e.pubkey(), dTag);
                if (until != null && e.createdAt() <= until) return WriteResult.blocked("this address was deleted by its author");
            }
            List<Version> versions = versions(e.pubkey(), kind, dTag);
            for (Version old : versions) {
                // NIP-01: the newest wins; on equal created_at the lowest id wins.
                boolean newer = e.createdAt() > old.createdAt() || (e.createdAt() == old.createdAt() && e.id().compareTo(old.id()) < 0);
                if (!newer) return WriteResult.olderThanStored("a newer version of this replaceable event is already stored");
            }
            for (Version old : versions) {
                deleteSeq(old.seq());
                stored.remove(old.id());
            }
        }
        if (kind == Kinds.DELETION) applyDeletion(e);
        insert(e, dTag, retention.expiresAt(e), false);
        return WriteResult.STORED;
    }

    /**
     * PostgreSQL text cannot hold U+0000. The wire JSON escapes it, but indexed tag values and the
     * d tag are stored decoded, so such an event is refused rather than altered.
     */
    private static String unstorable(Event e) {
        for (List<String> tag : e.tags()) {
            if (tag.size() < 2 || tag.get(0).length() != 1) continue;
            if (tag.get(0).indexOf('\u0000') >= 0 || tag.get(1).indexOf('\u0000') >= 0) {
                return "tag values containing U+0000 cannot be stored here";
            }
        }
        return null;
    }

    private Long addressDeletedUntil(int kind, String pubkey, String dTag) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT until FROM deleted_address WHERE kind = ? AND pubkey = ? AND d_tag = ?")) {
            ps.setInt(1, kind);
            ps.setString(2, pubkey);
            ps.setString(3, dTag);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? rs.getLong(1) : null;
            }
        }
    }

    private List<Version> versions(String pubkey, int kind, String dTag) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT seq, created_at, id FROM event WHERE pubkey = ? AND kind = ? AND d_tag = ?")) {
            ps.setString(1, pubkey);
            ps.setInt(2, kind);
            ps.setString(3, dTag);
            List<Version> out = new ArrayList<>(1);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) out.add(new Version(rs.getLong(1), rs.getLong(2), rs.getString(3)));
            }
            return out;
        }
    }

    /** Tags go with their event (ON DELETE CASCADE). */
    private void deleteSeq(long seq) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("DELETE FROM event WHERE seq = ?")) {
            ps.setLong(1, seq);
            ps.executeUpdate();
        }
    }

    /**
     * The event row and its single-letter tags (each (name, value) once per event) in one
     * statement: the tag rows take the new row's seq from the INSERT's RETURNING. Plain events are
     * queued and sent together by {@link #flush}.
     */
    private void insert(Event e, String dTag, Long expiresAt, boolean queue) throws SQLException {
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
        if (queue) {
            ps.addBatch();
            pending++;
        } else {
            ps.executeUpdate();
        }
    }

    /** NIP-09: removes only the deleter's own events, and remembers them so they cannot come back. */
    private void applyDeletion(Event deletion) throws SQLException {
        for (List<String> tag : deletion.tags()) {
            if (tag.size() < 2) continue;
            String name = tag.get(0), value = tag.get(1);
            if (name.equals("e")) {
                if (value.indexOf('\u0000') >= 0) continue;
                try (PreparedStatement ps = c.prepareStatement(
                        // A deletion cannot delete a deletion (NIP-09).
                        "DELETE FROM event WHERE id = ? AND pubkey = ? AND kind <> " + Kinds.DELETION + " RETURNING id")) {
                    ps.setString(1, value);
                    ps.setString(2, deletion.pubkey());
                    forgetDeleted(ps);
                }
                tombstoned.add(value + ':' + deletion.pubkey());
                try (PreparedStatement ps = c.prepareStatement("INSERT INTO deleted_event (id, pubkey) VALUES (?, ?) ON CONFLICT DO NOTHING")) {
                    ps.setString(1, value);
                    ps.setString(2, deletion.pubkey());
                    ps.executeUpdate();
                }
            } else if (name.equals("a")) {
                String[] parts = value.split(":", 3);
                if (parts.length < 3 || !parts[1].equals(deletion.pubkey()) || value.indexOf('\u0000') >= 0) continue;
                int kind;
                try {
                    kind = Integer.parseInt(parts[0]);
                } catch (NumberFormatException ex) {
                    continue;
                }
                if (!Kinds.isAddressable(kind) && !Kinds.isReplaceable(kind)) continue;
                String dTag = Kinds.isAddressable(kind) ? parts[2] : "";
                try (PreparedStatement ps = c.prepareStatement("DELETE FROM event WHERE pubkey = ? AND kind = ? AND d_tag = ? AND created_at <= ? RETURNING id")) {
                    ps.setString(1, deletion.pubkey());
                    ps.setInt(2, kind);
                    ps.setString(3, dTag);
                    ps.setLong(4, deletion.createdAt());
                    forgetDeleted(ps);
                }
                try (PreparedStatement ps = c.prepareStatement("INSERT INTO deleted_address (kind, pubkey, d_tag, until) VALUES (?, ?, ?, ?) "
                        + "ON CONFLICT (kind, pubkey, d_tag) DO UPDATE SET until = GREATEST(deleted_address.until, excluded.until)")) {
                    ps.setInt(1, kind);
                    ps.setString(2, deletion.pubkey());
                    ps.setString(3, dTag);
                    ps.setLong(4, deletion.createdAt());
                    ps.executeUpdate();
                }
            }
        }
    }

    private void forgetDeleted(PreparedStatement deleteReturningId) throws SQLException {
        try (ResultSet rs = deleteReturningId.executeQuery()) {
            while (rs.next()) stored.remove(rs.getString(1));
        }
    }

    /**
     * Appends this transaction's live events to the cluster feed. The feed lock is held from here
     * until commit, so the sequence numbers handed out are in commit order across every node: a
     * reader that has seen seq N can never later find a committed row below N. The NOTIFY is sent
     * at commit and only wakes the readers; they read by sequence, so coalesced or lost
     * notifications cost latency, never events.
     */
    void appendToFeed(List<Event> events, List<Boolean> stored) throws SQLException {
        flush();
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
