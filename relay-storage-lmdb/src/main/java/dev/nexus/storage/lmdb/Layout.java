package dev.nexus.storage.lmdb;

import dev.nexus.core.Hex;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;

/**
 * The byte layouts of the LMDB store. Every number is big-endian so that LMDB's byte order is
 * numeric order; created_at has its sign bit flipped for the same reason. Index keys end in
 * (created_at, seq), so one index value's events lie together, oldest first, and a cursor walks
 * them newest first from the end; the value of an index entry is the event's expiry, so an expiry
 * check or a COUNT never reads the event itself.
 *
 * <pre>
 * event      seq                                   → record (below)
 * id         id(32)                                → seq
 * created    created seq                           → expires
 * kind       kind(4) created seq                   → expires
 * pubkey     pubkey(32) created seq                → expires
 * pubkind    pubkey(32) kind(4) created seq        → expires
 * tag        name(2) value created seq             → expires      (value: see {@link #putTagValue})
 * address    kind(4) pubkey(32) sha256(d) seq      → ∅            (replaceable and addressable kinds)
 * expiry     expires seq                           → ∅            (events that stop being served)
 * tombstone  id(32) pubkey(32)                     → ∅            (NIP-09 e)
 * deladdr    kind(4) pubkey(32) sha256(d)          → until        (NIP-09 a)
 * moderation category 0x00 sha256(value)          → value length(4) value reason (UTF-8)
 * record:    created(8) kind(4) expires(8, Long.MAX_VALUE: never) id(32) pubkey(32) flags(1) [sha256(d)(32) when flags&1] json
 * </pre>
 */
final class Layout {
    static final long NO_EXPIRY = Long.MAX_VALUE;
    static final int SEQ = 8;
    static final int TIME = 8;
    static final int KIND = 4;
    static final int KEY32 = 32;
    /** created_at and seq: the suffix of every index key. */
    static final int SUFFIX = TIME + SEQ;

    static final int R_CREATED = 0;
    static final int R_KIND = 8;
    static final int R_EXPIRES = 12;
    static final int R_ID = 20;
    static final int R_PUBKEY = 52;
    static final int R_FLAGS = 84;
    static final int R_ADDRESS = 85;
    static final int FLAG_ADDRESS = 1;

    /** Tag values: a 64-digit lowercase hex value as its 32 bytes, a short one as its UTF-8, a long one by its SHA-256. */
    static final byte TAG_HEX = 1;
    static final byte TAG_TEXT = 0;
    static final byte TAG_HASHED = 2;
    static final int TAG_TEXT_MAX = 255;
    /** The longest index key: name, the longest text value with its marker and length, created, seq (LMDB allows 511). */
    static final int MAX_KEY = 2 + 2 + TAG_TEXT_MAX + SUFFIX;

    private Layout() {}

    static long sortable(long createdAt) {
        return createdAt ^ Long.MIN_VALUE;
    }

    static long unsortable(long stored) {
        return stored ^ Long.MIN_VALUE;
    }

    static void putTagValue(ByteBuffer b, String value) {
        if (Hex.isLowerHex(value, 32)) {
            b.put(TAG_HEX).put(Hex.decode(value));
            return;
        }
        byte[] utf8 = value.getBytes(StandardCharsets.UTF_8);
        if (utf8.length <= TAG_TEXT_MAX) {
            b.put(TAG_TEXT).put((byte) utf8.length).put(utf8);
        } else {
            b.put(TAG_HASHED).put(sha256(utf8));
        }
    }

    /** The address's d tag as a fixed-length key part. */
    static byte[] dHash(String dTag) {
        return sha256(dTag.getBytes(StandardCharsets.UTF_8));
    }

    static byte[] sha256(byte[] bytes) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(bytes);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** A lowercase 64-digit hex string as 32 bytes, or null when it is not one (such an id or key was never stored). */
    static byte[] key32(String hex) {
        return Hex.isLowerHex(hex, 32) ? Hex.decode(hex) : null;
    }

    /** A copy of the wire JSON a record ends with (after the address hash when it has one). */
    static byte[] recordJson(ByteBuffer record) {
        int at = record.position();
        int jsonAt = at + R_ADDRESS + ((record.get(at + R_FLAGS) & FLAG_ADDRESS) != 0 ? KEY32 : 0);
        byte[] json = new byte[record.limit() - jsonAt];
        record.get(jsonAt, json);
        return json;
    }

    /** A moderation row's key starts with its category and a NUL; the SHA-256 of the value follows. */
    static byte[] moderationCategory(String category) {
        return (category + '\0').getBytes(StandardCharsets.UTF_8);
    }

    /** A moderation row's data: the value's length, the value, the reason (UTF-8). */
    static ByteBuffer moderationRow(String value, String reason) {
        byte[] v = value.getBytes(StandardCharsets.UTF_8), r = reason.getBytes(StandardCharsets.UTF_8);
        return ByteBuffer.allocateDirect(4 + v.length + r.length).putInt(v.length).put(v).put(r).flip();
    }

    static boolean startsWith(ByteBuffer key, byte[] prefix) {
        if (key.remaining() < prefix.length) return false;
        for (int i = 0; i < prefix.length; i++) if (key.get(key.position() + i) != prefix[i]) return false;
        return true;
    }

    static String hex32(ByteBuffer b, int at) {
        byte[] bytes = new byte[KEY32];
        b.get(at, bytes);
        return Hex.encode(bytes);
    }
}
