package dev.nexus.storage.lmdb;

import java.nio.ByteBuffer;
import org.lmdbjava.Dbi;
import org.lmdbjava.DbiFlags;
import org.lmdbjava.Env;
import org.lmdbjava.Txn;

/** The store's named databases ({@link Layout} has their keys), opened once. */
final class Tables {
    /** Bumped when a layout changes; a store written by another version is refused rather than misread. */
    static final long LAYOUT_VERSION = 1;
    static final String VERSION_KEY = "layout_version";

    final Dbi<ByteBuffer> event;
    final Dbi<ByteBuffer> id;
    final Dbi<ByteBuffer> created;
    final Dbi<ByteBuffer> kind;
    final Dbi<ByteBuffer> pubkey;
    final Dbi<ByteBuffer> pubkind;
    final Dbi<ByteBuffer> tag;
    final Dbi<ByteBuffer> address;
    final Dbi<ByteBuffer> expiry;
    final Dbi<ByteBuffer> tombstone;
    final Dbi<ByteBuffer> deletedAddress;
    final Dbi<ByteBuffer> moderation;
    final Dbi<ByteBuffer> meta;

    static final int COUNT = 13;

    Tables(Env<ByteBuffer> env, Txn<ByteBuffer> txn) {
        event = open(env, txn, "event");
        id = open(env, txn, "id");
        created = open(env, txn, "created");
        kind = open(env, txn, "kind");
        pubkey = open(env, txn, "pubkey");
        pubkind = open(env, txn, "pubkind");
        tag = open(env, txn, "tag");
        address = open(env, txn, "address");
        expiry = open(env, txn, "expiry");
        tombstone = open(env, txn, "tombstone");
        deletedAddress = open(env, txn, "deladdr");
        moderation = open(env, txn, "moderation");
        meta = open(env, txn, "meta");
    }

    private static Dbi<ByteBuffer> open(Env<ByteBuffer> env, Txn<ByteBuffer> txn, String name) {
        return env.openDbi(txn, name.getBytes(java.nio.charset.StandardCharsets.US_ASCII), null, false, DbiFlags.MDB_CREATE);
    }
}
