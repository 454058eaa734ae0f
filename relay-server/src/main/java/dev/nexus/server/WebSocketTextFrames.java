package dev.nexus.server;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;

/**
 * EVENT frames (and the OKs other threads send) encoded straight into the bytes a server sends on the wire (RFC 6455 §5.2: FIN, text
 * opcode, unmasked length, payload), written to the channel as a plain {@link ByteBuf}.
 *
 * <p>Why: an EVENT goes to every matching subscription, so its frame is built once per delivery.
 * Going through {@code TextWebSocketFrame} cost one wrapper object, one header buffer and a second
 * pass through the WebSocket encoder per delivery (the W2 profile, docs/PERFORMANCE.md); this is one
 * copy of the event's shared bytes into a buffer that may hold several frames for one connection.
 * After the upgrade the only handler between the relay and the socket that changes a
 * {@code ByteBuf} is TLS, which encrypts it like any other bytes. The relay negotiates no WebSocket
 * extension, so no RSV bit is ever needed.
 */
final class WebSocketTextFrames {
    private static final int FIN_TEXT = 0x81;

    private WebSocketTextFrames() {}

    /** Bytes {@link #writeEventFrame} writes for this prefix and event. */
    static int frameLength(byte[] prefix, byte[] json) {
        int payload = payloadLength(prefix, json);
        return headerLength(payload) + payload;
    }

    /** Appends {@code prefix + json + "]"} as one unmasked text frame; {@code prefix} is already UTF-8. */
    static void writeEventFrame(ByteBuf buf, byte[] prefix, byte[] json) {
        int payload = payloadLength(prefix, json);
        buf.ensureWritable(headerLength(payload) + payload);
        writeHeader(buf, payload);
        buf.writeBytes(prefix);
        buf.writeBytes(json);
        buf.writeByte(']');
    }

    /** Bytes {@link #writeTextFrame} writes for this text. */
    static int textFrameLength(String text) {
        int payload = ByteBufUtil.utf8Bytes(text);
        return headerLength(payload) + payload;
    }

    /** Appends {@code text}, encoded as UTF-8, as one unmasked text frame. */
    static void writeTextFrame(ByteBuf buf, String text) {
        int payload = ByteBufUtil.utf8Bytes(text);
        buf.ensureWritable(headerLength(payload) + payload);
        writeHeader(buf, payload);
        ByteBufUtil.reserveAndWriteUtf8(buf, text, payload);
    }

    private static void writeHeader(ByteBuf buf, int payload) {
        buf.writeByte(FIN_TEXT);
        if (payload < 126) {
            buf.writeByte(payload);
        } else if (payload <= 0xFFFF) {
            buf.writeByte(126);
            buf.writeShort(payload);
        } else {
            buf.writeByte(127);
            buf.writeLong(payload);
        }
    }

    private static int payloadLength(byte[] prefix, byte[] json) {
        return prefix.length + json.length + 1;
    }

    static int headerLength(int payload) {
        return payload < 126 ? 2 : payload <= 0xFFFF ? 4 : 10;
    }
}
