package dev.nexus.storage.lmdb;

import static dev.nexus.storage.lmdb.Layout.*;

import java.nio.ByteBuffer;
import org.lmdbjava.Cursor;
import org.lmdbjava.Dbi;
import org.lmdbjava.GetOp;
import org.lmdbjava.Txn;

/**
 * One index value's events (a kind, an author, a tag value...) between since and until, walked in
 * created_at order, newest first or oldest first. Its entry is read as (created_at, seq, expires)
 * before it moves on, so several cursors can be merged by a priority queue.
 */
final class IndexCursor implements AutoCloseable {
    private final Cursor<ByteBuffer> cursor;
    private final byte[] prefix;
    private final boolean newestFirst;
    private final long since;
    private final long until;
    long createdAt;
    long seq;
    long expiresAt;
    boolean valid;

    IndexCursor(Dbi<ByteBuffer> index, Txn<ByteBuffer> txn, byte[] prefix, long since, long until, boolean newestFirst, ByteBuffer scratch) {
        this.cursor = index.openCursor(txn);
        this.prefix = prefix;
        this.newestFirst = newestFirst;
        this.since = since;
        this.until = until;
        scratch.clear().put(prefix);
        if (newestFirst) {
            // Just past the newest key this cursor may return: its prefix, until, and the largest seq.
            scratch.putLong(sortable(until)).putLong(-1L).flip();
            valid = cursor.get(scratch, GetOp.MDB_SET_RANGE) ? cursor.prev() : cursor.last();
        } else {
            scratch.putLong(sortable(since)).putLong(0L).flip();
            valid = cursor.get(scratch, GetOp.MDB_SET_RANGE);
        }
        read();
    }

    void advance() {
        valid = newestFirst ? cursor.prev() : cursor.next();
        read();
    }

    private void read() {
        if (!valid) return;
        ByteBuffer k = cursor.key();
        if (k.remaining() != prefix.length + SUFFIX || !startsWith(k, prefix)) {
            valid = false;
            return;
        }
        createdAt = unsortable(k.getLong(k.position() + prefix.length));
        if (createdAt < since || createdAt > until) {
            valid = false;
            return;
        }
        seq = k.getLong(k.position() + prefix.length + TIME);
        ByteBuffer v = cursor.val();
        expiresAt = unsortable(v.getLong(v.position()));
    }

    @Override
    public void close() {
        cursor.close();
    }
}
