package dev.nexus.core.nip77;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * One side of a negentropy (protocol version 1, {@code 0x61}) reconciliation over a
 * {@link NegentropyStorage}. The initiator calls {@link #initiate()} and then
 * {@link #reconcile(byte[])} on each reply, collecting the ids it has and the other side lacks
 * ("have") and the ids the other side has and it lacks ("need"), until there is nothing left to
 * send. The responder answers each message with {@link #respond(byte[])}.
 *
 * <p>A frame size limit (0 = none, else at least 4096 bytes) keeps every message this side
 * produces under that size: the reconciliation then takes more round trips instead. The output is
 * byte for byte the reference implementation's (hoytech/negentropy), so either side can be it.
 *
 * <p>Not thread-safe: one instance belongs to one session.
 */
public final class Negentropy {
    public static final int PROTOCOL_VERSION = 0x61;
    public static final int ID_SIZE = 32;
    public static final int FINGERPRINT_SIZE = 16;
    public static final int MIN_FRAME_SIZE_LIMIT = 4096;

    static final int MODE_SKIP = 0;
    static final int MODE_FINGERPRINT = 1;
    static final int MODE_ID_LIST = 2;

    /** A range with fewer items than this is sent as its id list; a larger one is split in BUCKETS fingerprints. */
    private static final int BUCKETS = 16;
    private static final int ID_LIST_BELOW = BUCKETS * 2;
    /** Room left under the frame size limit for the closing range, as the reference implementation does. */
    private static final int FRAME_SAFETY_MARGIN = 200;

    private final NegentropyStorage storage;
    private final long frameSizeLimit;
    private boolean initiator;
    private final BoundCodec bounds = new BoundCodec();

    public Negentropy(NegentropyStorage storage) {
        this(storage, 0);
    }

    public Negentropy(NegentropyStorage storage, long frameSizeLimit) {
        if (frameSizeLimit != 0 && frameSizeLimit < MIN_FRAME_SIZE_LIMIT) {
            throw new IllegalArgumentException("frame size limit below " + MIN_FRAME_SIZE_LIMIT);
        }
        this.storage = storage;
        this.frameSizeLimit = frameSizeLimit;
    }

    /** The initiator's first message. */
    public byte[] initiate() {
        if (initiator) throw new IllegalStateException("already initiated");
        initiator = true;
        bounds.startOutgoing();
        ByteWriter out = new ByteWriter();
        out.write(PROTOCOL_VERSION);
        splitRange(0, storage.size(), Bound.INFINITY, out);
        return out.toByteArray();
    }

    /** Marks this side as the initiator without producing a first message (it was sent earlier). */
    public void setInitiator() {
        initiator = true;
    }

    public boolean isInitiator() {
        return initiator;
    }

    /**
     * The responder's answer to one message. A message of another protocol version is answered
     * with the single byte {@code 0x61}, the version this side speaks, as the protocol asks.
     *
     * @throws NegentropyException when the message is malformed
     */
    public byte[] respond(byte[] query) {
        if (initiator) throw new IllegalStateException("the initiator reconciles, it does not respond");
        return reconcileAux(query, null, null);
    }

    /**
     * The initiator's processing of one reply: the ids found so far on each side, and the next
     * message to send, or {@code null} when reconciliation is complete.
     *
     * @throws NegentropyException when the reply is malformed or of another protocol version
     */
    public Reconciliation reconcile(byte[] reply) {
        if (!initiator) throw new IllegalStateException("only the initiator reconciles");
        List<byte[]> have = new ArrayList<>();
        List<byte[]> need = new ArrayList<>();
        byte[] next = reconcileAux(reply, have, need);
        return new Reconciliation(next.length == 1 ? null : next, have, need);
    }

    /** What one reply taught the initiator; {@code nextMessage} is null when it is done. */
    public record Reconciliation(byte[] nextMessage, List<byte[]> have, List<byte[]> need) {
        public boolean done() {
            return nextMessage == null;
        }
    }

    private byte[] reconcileAux(byte[] query, List<byte[]> have, List<byte[]> need) {
        bounds.startMessage();
        MessageReader in = new MessageReader(query);
        ByteWriter full = new ByteWriter(Math.max(64, query.length));
        full.write(PROTOCOL_VERSION);

        int version = in.readByte();
        if (version < 0x60 || version > 0x6f) throw new NegentropyException("invalid negentropy protocol version byte");
        if (version != PROTOCOL_VERSION) {
            if (initiator) throw new NegentropyException("unsupported negentropy protocol version " + (version - 0x60));
            return full.toByteArray();
        }

        int storageSize = storage.size();
        Bound prevBound = Bound.ZERO;
        int prevIndex = 0;
        boolean skip = false;
        ByteWriter o = new ByteWriter();

        while (in.hasRemaining()) {
            o.clear();
            Bound currBound = bounds.decode(in);
            long mode = in.readVarint();

            int lower = prevIndex;
            int upper = storage.findLowerBound(prevIndex, storageSize, currBound);

            if (mode == MODE_SKIP) {
                skip = true;
            } else if (mode == MODE_FINGERPRINT) {
                byte[] theirs = in.readBytes(FINGERPRINT_SIZE);
                byte[] ours = storage.fingerprint(lower, upper);
                if (!java.util.Arrays.equals(theirs, ours)) {
                    if (skip) {
                        skip = false;
                        writeSkip(prevBound, o);
                    }
                    splitRange(lower, upper, currBound, o);
                } else {
                    skip = true;
                }
            } else if (mode == MODE_ID_LIST) {
                int count = in.readCount(in.remaining() / ID_SIZE, "id list");
                if (initiator) {
                    skip = true;
                    Map<ByteBuffer, byte[]> theirs = new LinkedHashMap<>(count * 2);
                    for (int i = 0; i < count; i++) {
                        byte[] id = in.readBytes(ID_SIZE);
                        theirs.put(ByteBuffer.wrap(id), id);
                    }
                    byte[] id = new byte[ID_SIZE];
                    for (int i = lower; i < upper; i++) {
                        storage.copyId(i, id, 0);
                        if (theirs.remove(ByteBuffer.wrap(id)) == null) have.add(id.clone());
                    }
                    need.addAll(theirs.values());
                } else {
                    in.readBytes(count * ID_SIZE); // the responder only answers with its own list
                    if (skip) {
                        skip = false;
                        writeSkip(prevBound, o);
                    }
                    ByteWriter responseIds = new ByteWriter();
                    int responseCount = 0;
                    Bound endBound = currBound;
                    byte[] id = new byte[ID_SIZE];
                    for (int i = lower; i < upper; i++) {
                        if (exceedsFrameSizeLimit(full.length() + responseIds.length())) {
                            storage.copyId(i, id, 0);
                            endBound = new Bound(storage.timestamp(i), id);
                            upper = i; // the rest of the range is covered by the closing fingerprint
                            break;
                        }
                        storage.copyId(i, id, 0);
                        responseIds.write(id);
                        responseCount++;
                    }
                    bounds.encode(endBound, o);
                    o.writeVarint(MODE_ID_LIST);
                    o.writeVarint(responseCount);
                    o.write(responseIds);
                    full.write(o);
                    o.clear();
                }
            } else {
                throw new NegentropyException("unexpected mode " + Long.toUnsignedString(mode));
            }

            if (exceedsFrameSizeLimit(full.length() + o.length())) {
                // Stop here and send one fingerprint for everything not yet covered; the other side
                // will ask again about it.
                byte[] remaining = storage.fingerprint(upper, storageSize);
                bounds.encode(Bound.INFINITY, full);
                full.writeVarint(MODE_FINGERPRINT);
                full.write(remaining);
                break;
            }
            full.write(o);
            prevIndex = upper;
            prevBound = currBound;
        }
        return full.toByteArray();
    }

    private void writeSkip(Bound prevBound, ByteWriter o) {
        bounds.encode(prevBound, o);
        o.writeVarint(MODE_SKIP);
    }

    private void splitRange(int lower, int upper, Bound upperBound, ByteWriter o) {
        int count = upper - lower;
        if (count < ID_LIST_BELOW) {
            bounds.encode(upperBound, o);
            o.writeVarint(MODE_ID_LIST);
            o.writeVarint(count);
            byte[] id = new byte[ID_SIZE];
            for (int i = lower; i < upper; i++) {
                storage.copyId(i, id, 0);
                o.write(id);
            }
            return;
        }
        int perBucket = count / BUCKETS;
        int withExtra = count % BUCKETS;
        int curr = lower;
        byte[] prevId = new byte[ID_SIZE];
        byte[] currId = new byte[ID_SIZE];
        for (int i = 0; i < BUCKETS; i++) {
            int bucketSize = perBucket + (i < withExtra ? 1 : 0);
            byte[] fingerprint = storage.fingerprint(curr, curr + bucketSize);
            curr += bucketSize;
            Bound next;
            if (curr == upper) {
                next = upperBound;
            } else {
                storage.copyId(curr - 1, prevId, 0);
                storage.copyId(curr, currId, 0);
                next = Bound.minimal(storage.timestamp(curr - 1), prevId, storage.timestamp(curr), currId);
            }
            bounds.encode(next, o);
            o.writeVarint(MODE_FINGERPRINT);
            o.write(fingerprint);
        }
    }

    private boolean exceedsFrameSizeLimit(long n) {
        return frameSizeLimit != 0 && n > frameSizeLimit - FRAME_SAFETY_MARGIN;
    }
}
