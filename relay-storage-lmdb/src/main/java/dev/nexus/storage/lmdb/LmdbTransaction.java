package dev.nexus.storage.lmdb;

import static dev.nexus.storage.lmdb.Layout.*;

import dev.nexus.core.Event;
import dev.nexus.core.Kinds;
import dev.nexus.storage.Moderation;
import dev.nexus.storage.StoreTransaction;
import dev.nexus.storage.TagKeys;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.lmdbjava.Cursor;
import org.lmdbjava.Dbi;
import org.lmdbjava.GetOp;
import org.lmdbjava.PutFlags;
import org.lmdbjava.Txn;

/**
 * The writer's side of one LMDB write transaction: the reads and writes {@code WriteRules} is made
 * of, and the index entries of each event. Only the writer thread uses it, so its key and value
 * buffers are reused from event to event.
 */
final class LmdbTransaction implements StoreTransaction {
    private final Tables t;
    private final Set<String> bannedEventIds;
    private final ByteBuffer key = ByteBuffer.allocateDirect(MAX_KEY);
    private final ByteBuffer key2 = ByteBuffer.allocateDirect(MAX_KEY);
    private final ByteBuffer small = ByteBuffer.allocateDirect(8);
    private final ByteBuffer empty = ByteBuffer.allocateDirect(0);
    private ByteBuffer record = ByteBuffer.allocateDirect(64 * 1024);
    private static final byte[] NEXT_SEQ_KEY = "next_seq".getBytes(StandardCharsets.US_ASCII);
    private Txn<ByteBuffer> txn;
    private long nextSeq;
    private long seqAtBegin;

    LmdbTransaction(Tables tables, Set<String> bannedEventIds) {
        this.t = tables;
        this.bannedEventIds = bannedEventIds;
    }

    /**
     * Starts using {@code txn}. The sequence is read from the store in every transaction, not kept
     * in memory: another process (an import or sync beside the relay) may have written since, and
     * write transactions are serialised across processes by LMDB.
     */
    void begin(Txn<ByteBuffer> txn) {
        this.txn = txn;
        key.clear().put(NEXT_SEQ_KEY).flip();
        ByteBuffer recorded = t.meta.get(txn, key);
        long fromMeta = recorded == null ? 1 : recorded.getLong(0);
        long fromEvents;
        try (Cursor<ByteBuffer> c = t.event.openCursor(txn)) {
            fromEvents = c.last() ? c.key().getLong(0) + 1 : 1;
        }
        nextSeq = seqAtBegin = Math.max(fromMeta, fromEvents);
    }

    /** Just before the commit: records where the sequence stands, so no seq is handed out twice, even one whose event was deleted. */
    void finish() {
        if (nextSeq == seqAtBegin) return;
        key.clear().put(NEXT_SEQ_KEY).flip();
        small.clear().putLong(nextSeq).flip();
        t.meta.put(txn, key, small);
    }

    @Override
    public boolean isBanned(String id) {
        return bannedEventIds.contains(id);
    }

    @Override
    public boolean contains(String id) {
        return seqOf(id) >= 0;
    }

    /** The stored event's seq, or -1. */
    long seqOf(String id) {
        byte[] raw = key32(id);
        if (raw == null) return -1;
        key.clear().put(raw).flip();
        ByteBuffer found = t.id.get(txn, key);
        return found == null ? -1 : found.getLong(0);
    }

    @Override
    public boolean isTombstoned(String id, String pubkey) {
        byte[] rawId = key32(id), rawPubkey = key32(pubkey);
        if (rawId == null || rawPubkey == null) return false;
        key.clear().put(rawId).put(rawPubkey).flip();
        return t.tombstone.get(txn, key) != null;
    }

    @Override
    public Long addressDeletedUntil(int kind, String pubkey, String dTag) {
        byte[] rawPubkey = key32(pubkey);
        if (rawPubkey == null) return null;
        key.clear().putInt(kind).put(rawPubkey).put(dHash(dTag)).flip();
        ByteBuffer until = t.deletedAddress.get(txn, key);
        return until == null ? null : unsortable(until.getLong(0));
    }

    @Override
    public List<Version> versions(String pubkey, int kind, String dTag) {
        byte[] rawPubkey = key32(pubkey);
        if (rawPubkey == null) return List.of();
        key.clear().putInt(kind).put(rawPubkey).put(dHash(dTag)).flip();
        int prefix = key.remaining();
        List<Long> seqs = new ArrayList<>(1);
        try (Cursor<ByteBuffer> c = t.address.openCursor(txn)) {
            for (boolean more = c.get(key, GetOp.MDB_SET_RANGE); more; more = c.next()) {
                ByteBuffer k = c.key();
                if (k.remaining() != prefix + SEQ || k.mismatch(key) != prefix) break; // past the address's versions
                seqs.add(k.getLong(prefix));
            }
        }
        List<Version> out = new ArrayList<>(seqs.size());
        for (long seq : seqs) {
            ByteBuffer rec = recordOf(seq);
            if (rec != null) out.add(new Version(seq, hex32(rec, R_ID), unsortable(rec.getLong(R_CREATED))));
        }
        return out;
    }

    @Override
    public void delete(Version version) {
        deleteEvent(version.handle());
    }

    @Override
    public boolean insert(Event e, String dTag, Long expiresAt) {
        if (contains(e.id())) return false;
        long seq = nextSeq++;
        long created = sortable(e.createdAt());
        long expiresAtOrNever = expiresAt == null ? NO_EXPIRY : expiresAt;
        long expires = sortable(expiresAtOrNever);
        byte[] id = raw(e.id());
        byte[] pubkey = raw(e.pubkey());
        byte[] json = e.jsonUtf8();
        byte[] address = dTag == null ? null : dHash(dTag);
        int size = R_ADDRESS + (address == null ? 0 : KEY32) + json.length;
        if (record.capacity() < size) record = ByteBuffer.allocateDirect(Math.max(size, record.capacity() * 2));
        record.clear().putLong(created).putInt(e.kind()).putLong(expires).put(id).put(pubkey).put((byte) (address == null ? 0 : FLAG_ADDRESS));
        if (address != null) record.put(address);
        record.put(json).flip();
        seqKey(seq);
        t.event.put(txn, key, record, PutFlags.MDB_APPEND);
        small.clear().putLong(seq).flip();
        key.clear().put(id).flip();
        t.id.put(txn, key, small);

        small.clear().putLong(expires).flip();
        key.clear().putLong(created).putLong(seq).flip();
        t.created.put(txn, key, small);
        key.clear().putInt(e.kind()).putLong(created).putLong(seq).flip();
        t.kind.put(txn, key, small);
        key.clear().put(pubkey).putLong(created).putLong(seq).flip();
        t.pubkey.put(txn, key, small);
        key.clear().put(pubkey).putInt(e.kind()).putLong(created).putLong(seq).flip();
        t.pubkind.put(txn, key, small);
        for (List<String> tag : e.tags()) {
            if (tag.size() < 2 || tag.get(0).length() != 1) continue;
            tagKey(tag.get(0), tag.get(1), created, seq);
            t.tag.put(txn, key, small); // the same (name, value) twice is one key
        }
        if (address != null) {
            key.clear().putInt(e.kind()).put(pubkey).put(address).putLong(seq).flip();
            t.address.put(txn, key, empty);
        }
        if (expiresAtOrNever != NO_EXPIRY) {
            key.clear().putLong(expires).putLong(seq).flip();
            t.expiry.put(txn, key, empty);
        }
        return true;
    }

    @Override
    public void deleteOwnEvent(String id, String pubkey) {
        long seq = seqOf(id);
        if (seq < 0) return;
        ByteBuffer rec = recordOf(seq);
        if (rec == null || rec.getInt(R_KIND) == Kinds.DELETION || !hex32(rec, R_PUBKEY).equals(pubkey)) return;
        deleteEvent(seq);
    }

    @Override
    public void tombstone(String id, String pubkey) {
        byte[] rawId = key32(id), rawPubkey = key32(pubkey);
        if (rawId == null || rawPubkey == null) return; // an id that is not 64 hex digits can never be stored
        key.clear().put(rawId).put(rawPubkey).flip();
        t.tombstone.put(txn, key, empty);
    }

    @Override
    public void deleteAddress(int kind, String pubkey, String dTag, long until) {
        for (Version v : versions(pubkey, kind, dTag)) {
            if (v.createdAt() <= until) deleteEvent(v.handle());
        }
        Long already = addressDeletedUntil(kind, pubkey, dTag);
        if (already != null && already >= until) return;
        key.clear().putInt(kind).put(raw(pubkey)).put(dHash(dTag)).flip();
        small.clear().putLong(sortable(until)).flip();
        t.deletedAddress.put(txn, key, small);
    }

    /** Removes up to {@code batch} events whose expiry is at or before {@code now}; returns how many. */
    int deleteExpired(long now, int batch) {
        List<long[]> doomed = new ArrayList<>();
        try (Cursor<ByteBuffer> c = t.expiry.openCursor(txn)) {
            for (boolean more = c.first(); more && doomed.size() < batch; more = c.next()) {
                ByteBuffer k = c.key();
                if (unsortable(k.getLong(0)) > now) break;
                doomed.add(new long[] {k.getLong(0), k.getLong(TIME)});
            }
        }
        int removed = 0;
        for (long[] entry : doomed) {
            if (deleteEvent(entry[1])) {
                removed++;
            } else {
                // An expiry entry without its event (never written so by this store): drop it, or every sweep would meet it again.
                key.clear().putLong(entry[0]).putLong(entry[1]).flip();
                t.expiry.delete(txn, key);
            }
        }
        return removed;
    }

    /** The event with this id and every index entry of it; false when it is not stored. */
    boolean deleteById(String id) {
        long seq = seqOf(id);
        if (seq < 0) return false;
        deleteEvent(seq);
        return true;
    }

    /** Removes the event and its index entries (false when no such event); the tags to unindex are read back from its JSON, as they were indexed. */
    boolean deleteEvent(long seq) {
        ByteBuffer rec = recordOf(seq);
        if (rec == null) return false;
        // The record lives in a page this transaction is about to change: copy what the deletes need first.
        long created = rec.getLong(R_CREATED);
        int kind = rec.getInt(R_KIND);
        long expires = rec.getLong(R_EXPIRES);
        byte[] id = new byte[KEY32];
        byte[] pubkey = new byte[KEY32];
        rec.get(R_ID, id);
        rec.get(R_PUBKEY, pubkey);
        byte[] address = null;
        if ((rec.get(R_FLAGS) & FLAG_ADDRESS) != 0) {
            address = new byte[KEY32];
            rec.get(R_ADDRESS, address);
        }
        byte[] json = recordJson(rec);

        seqKey(seq);
        t.event.delete(txn, key);
        key.clear().put(id).flip();
        t.id.delete(txn, key);
        key.clear().putLong(created).putLong(seq).flip();
        t.created.delete(txn, key);
        key.clear().putInt(kind).putLong(created).putLong(seq).flip();
        t.kind.delete(txn, key);
        key.clear().put(pubkey).putLong(created).putLong(seq).flip();
        t.pubkey.delete(txn, key);
        key.clear().put(pubkey).putInt(kind).putLong(created).putLong(seq).flip();
        t.pubkind.delete(txn, key);
        try {
            for (String[] tag : TagKeys.singleLetter(new String(json, StandardCharsets.UTF_8))) {
                tagKey(tag[0], tag[1], created, seq);
                t.tag.delete(txn, key);
            }
        } catch (IOException unreadable) {
            // Never the relay's own JSON; its tag entries stay behind and are skipped by queries, which find no event.
        }
        if (address != null) {
            key.clear().putInt(kind).put(pubkey).put(address).putLong(seq).flip();
            t.address.delete(txn, key);
        }
        if (unsortable(expires) != NO_EXPIRY) {
            key.clear().putLong(expires).putLong(seq).flip();
            t.expiry.delete(txn, key);
        }
        return true;
    }

    /**
     * Records a moderation change. A row is keyed by its category and the SHA-256 of its value (values
     * such as a relay description can be longer than an LMDB key); the value and reason are the data.
     */
    void moderate(Moderation.Change change, Moderation.Entry entry) {
        byte[] category = Layout.moderationCategory(entry.category());
        if (change == Moderation.Change.SET) {
            List<byte[]> doomed = new ArrayList<>();
            key.clear().put(category).flip();
            try (Cursor<ByteBuffer> c = t.moderation.openCursor(txn)) {
                for (boolean more = c.get(key, GetOp.MDB_SET_RANGE); more; more = c.next()) {
                    ByteBuffer k = c.key();
                    if (!startsWith(k, category)) break;
                    byte[] whole = new byte[k.remaining()];
                    k.get(k.position(), whole);
                    doomed.add(whole);
                }
            }
            for (byte[] k : doomed) {
                key.clear().put(k).flip();
                t.moderation.delete(txn, key);
            }
        }
        key.clear().put(category).put(sha256(entry.value().getBytes(StandardCharsets.UTF_8))).flip();
        if (change == Moderation.Change.REMOVE) {
            t.moderation.delete(txn, key);
        } else {
            t.moderation.put(txn, key, Layout.moderationRow(entry.value(), entry.reason() == null ? "" : entry.reason()));
        }
        if (!entry.category().equals(Moderation.BANNED_EVENT)) return;
        if (change == Moderation.Change.REMOVE) {
            bannedEventIds.remove(entry.value());
        } else {
            bannedEventIds.add(entry.value());
            deleteById(entry.value());
        }
    }

    private ByteBuffer recordOf(long seq) {
        seqKey(seq);
        return t.event.get(txn, key);
    }

    private void seqKey(long seq) {
        key.clear().putLong(seq).flip();
    }

    private void tagKey(String name, String value, long created, long seq) {
        key.clear().putChar(name.charAt(0));
        putTagValue(key, value);
        key.putLong(created).putLong(seq).flip();
    }

    /** An id or pubkey that passed the event checks: always 64 lowercase hex digits. */
    private static byte[] raw(String hex) {
        byte[] raw = key32(hex);
        if (raw == null) throw new IllegalArgumentException("not 64 lowercase hex digits: " + hex);
        return raw;
    }
}
