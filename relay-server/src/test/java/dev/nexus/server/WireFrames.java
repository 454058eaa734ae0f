package dev.nexus.server;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.buffer.ByteBuf;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.websocketx.TextWebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocket08FrameDecoder;
import io.netty.handler.codec.http.websocketx.WebSocketDecoderConfig;
import java.util.ArrayList;
import java.util.List;

/**
 * What a relay wrote to an EmbeddedChannel's socket, as a client reads it: the raw writes, and the
 * text frames Netty's own WebSocket decoder finds in them (an independent reading of RFC 6455 for the
 * relay's hand-made frames; server frames are unmasked).
 */
final class WireFrames {
    private WireFrames() {}

    /** The buffers written to the socket since the last call, in order. */
    static List<ByteBuf> writesToSocket(EmbeddedChannel channel) {
        List<ByteBuf> writes = new ArrayList<>();
        for (Object o; (o = channel.readOutbound()) != null; ) writes.add((ByteBuf) o);
        return writes;
    }

    /** The text of every frame in {@code writes} (which it releases); each must be a final fragment. */
    static List<String> framesIn(List<ByteBuf> writes) {
        EmbeddedChannel client = new EmbeddedChannel(new WebSocket08FrameDecoder(WebSocketDecoderConfig.newBuilder()
                .expectMaskedFrames(false).allowMaskMismatch(false).maxFramePayloadLength(1 << 20).build()));
        for (ByteBuf b : writes) client.writeInbound(b);
        List<String> texts = new ArrayList<>();
        for (Object o; (o = client.readInbound()) != null; ) {
            TextWebSocketFrame f = (TextWebSocketFrame) o;
            assertTrue(f.isFinalFragment());
            texts.add(f.text());
            f.release();
        }
        client.finishAndReleaseAll();
        return texts;
    }
}
