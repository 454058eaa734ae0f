package dev.nexus.server;

import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.TooLongFrameException;
import io.netty.handler.codec.http.websocketx.CorruptedWebSocketFrameException;
import java.nio.channels.ClosedChannelException;

/**
 * Sits just before Netty's WebSocket protocol handler (after its UTF-8 validator), which closes the
 * connection at once on any exception. Two exceptions must not do that, or a client still sending
 * is reset before it reads why it was refused (see {@link LingeringClose}):
 * <ul>
 *   <li>a bad frame (too long, corrupt, invalid UTF-8) is passed on past the protocol handler to
 *       {@link RelayFrameHandler}, which answers it and closes with {@link LingeringClose};</li>
 *   <li>a write refused because the relay's close frame has already gone out (a late OK from a
 *       verifier or the writer) is dropped: the lingering close is already under way.</li>
 * </ul>
 * Anything else takes the usual way.
 */
@ChannelHandler.Sharable
final class ClosingHandshakeGuard extends ChannelInboundHandlerAdapter {
    static final ClosingHandshakeGuard INSTANCE = new ClosingHandshakeGuard();

    private ClosingHandshakeGuard() {}

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        if (cause instanceof ClosedChannelException && LingeringClose.isLingering(ctx.channel())) return;
        ChannelHandlerContext protocol = ctx.pipeline().context(RelayChannelInitializer.WEBSOCKET);
        if (protocol != null && (cause instanceof TooLongFrameException || cause instanceof CorruptedWebSocketFrameException)) {
            protocol.fireExceptionCaught(cause);
        } else {
            ctx.fireExceptionCaught(cause);
        }
    }
}
