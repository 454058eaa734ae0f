package dev.nexus.core.nip77;

/**
 * Bounds on the wire: a timestamp delta-encoded against the previous bound of the same message
 * and direction (0 is infinity, anything else is delta + 1), then the id prefix. The deltas start
 * afresh in each message, so the codec is reset at each one.
 */
final class BoundCodec {
    private long lastTimestampIn;
    private long lastTimestampOut;

    /** A message is about to be read and answered: both directions start from 0. */
    void startMessage() {
        lastTimestampIn = 0;
        lastTimestampOut = 0;
    }

    /** A message is about to be written that answers none (the initiator's first). */
    void startOutgoing() {
        lastTimestampOut = 0;
    }

    Bound decode(MessageReader in) {
        long encoded = in.readVarint();
        long timestamp;
        if (encoded == 0) {
            timestamp = Bound.INFINITY_TIMESTAMP;
        } else {
            timestamp = (encoded - 1) + lastTimestampIn;
            if (Long.compareUnsigned(timestamp, lastTimestampIn) < 0) timestamp = Bound.INFINITY_TIMESTAMP; // saturate
        }
        lastTimestampIn = timestamp;
        int length = in.readCount(Negentropy.ID_SIZE, "bound id prefix");
        return new Bound(timestamp, in.readBytes(length));
    }

    void encode(Bound bound, ByteWriter out) {
        long timestamp = bound.timestamp();
        if (timestamp == Bound.INFINITY_TIMESTAMP) {
            lastTimestampOut = Bound.INFINITY_TIMESTAMP;
            out.writeVarint(0);
        } else {
            out.writeVarint(timestamp - lastTimestampOut + 1);
            lastTimestampOut = timestamp;
        }
        out.writeVarint(bound.idPrefixLength());
        bound.writeIdPrefix(out);
    }
}
