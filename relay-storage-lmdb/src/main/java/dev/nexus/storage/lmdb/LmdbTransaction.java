package dev.nexus.storage.lmdb;

import static dev.nexus.storage.lmdb.Layout.*;

import dev.nexus.core.Event;
import dev.nexus.core.Kinds;
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
    private Txn<ByteBuffer> txn;
    private long nextSeq;

    LmdbTransaction(Tables tables, Set<String> bannedEventIds, long nextSeq) {
        this.t = tables;
        this.bannedEventIds = bannedEventIds;
        this.nextSeq = nextSeq;
    }

    /** Starts using {@code txn}; {@code nextSeq} is where the last committed transaction left the sequence. */
    void begin(Txn<ByteBuffer> txn, long nextSeq) {
        this.txn = txn;
        this.nextSeq = nextSeq;
    }

    long nextSeq() {
        return nextSeq;
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
    public void insert(Event e, String dTag, Long expiresAt) {
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
        List<Long> doomed = new ArrayList<>();
        try (Cursor<ByteBuffer> c = t.expiry.openCursor(txn)) {
            for (boolean more = c.first(); more && doomed.size() < batch; more = c.next()) {
                ByteBuffer k = c.key();
                if (unsortable(k.getLong(0)) > now) break;
                doomed.add(k.getLong(TIME));
            }
        }
        doomed.forEach(this::deleteEvent);
        return doomed.size();
    }

    /** The event with this id and every index entry of it; false when it is not stored. */
    boolean deleteById(String id) {
        long seq = seqOf(id);
        if (seq < 0) return false;
        deleteEvent(seq);
        return true;
    }

    /** Removes the event and its index entries; the tags to unindex are read back from its JSON, as they were indexed. */
    void deleteEvent(long seq) {
        ByteBuffer rec = recordOf(seq);
        if (rec == null) return;
        // The record lives in a page this transaction is about to change: copy what the deletes need first.
        long created = rec.getLong(R_CREATED);
        int kind = rec.getInt(R_KIND);
        long expires = rec.getLong(R_EXPIRES);
        byte[] id = new byte[KEY32];
        byte[] pubkey = new byte[KEY32];
        rec.get(R_ID, id);
        rec.get(R_PUBKEY, pubkey);
        byte[] address = null;
        int jsonAt = R_ADDRESS;
        if ((rec.get(R_FLAGS) & FLAG_ADDRESS) != 0) {
            address = new byte[KEY32];
            rec.get(R_ADDRESS, address);
            jsonAt += KEY32;
        }
        byte[] json = new byte[rec.limit() - jsonAt];
        rec.get(jsonAt, json);

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
    }

    /** Records a moderation change; returns whether a banned event was deleted. */
    void moderate(dev.nexus.storage.Moderation.Change change, dev.nexus.storage.Moderation.Entry entry) {
        byte[] category = (entry.category() + '\0').getBytes(StandardCharsets.UTF_8);
        if (change == dev.nexus.storage.Moderation.Change.SET) {
            List<byte[]> doomed = new ArrayList<>();
            key.clear().put(category).flip();
            try (Cursor<ByteBuffer> c = t.moderation.openCursor(txn)) {
                for (boolean more = c.get(key, GetOp.MDB_SET_RANGE); more; more = c.next()) {
                    ByteBuffer k = c.key();
                    if (!startsWith(k, category)) break;
                    byte[] whole = new byte[k.remaining()];
                    k.get(0, whole);
                    doomed.add(whole);
                }
            }
            for (byte[] k : doomed) {
                key.clear().put(k).flip();
                t.moderation.delete(txn, key);
            }
        }
        byte[] value = entry.value().getBytes(StandardCharsets.UTF_8);
        key.clear().put(category).put(value).flip();
        if (change == dev.nexus.storage.Moderation.Change.REMOVE) {
            t.moderation.delete(txn, key);
        } else {
            byte[] reason = (entry.reason() == null ? "" : entry.reason()).getBytes(StandardCharsets.UTF_8);
            ByteBuffer val = ByteBuffer.allocateDirect(reason.length).put(reason).flip();
            t.moderation.put(txn, key, val);
        }
        if (!entry.category().equals(dev.nexus.storage.Moderation.BANNED_EVENT)) return;
        if (change == dev.nexus.storage.Moderation.Change.REMOVE) {
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
