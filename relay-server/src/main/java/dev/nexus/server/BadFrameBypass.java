package dev.nexus.server;

import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.TooLongFrameException;
import io.netty.handler.codec.http.websocketx.CorruptedWebSocketFrameException;

/**
 * Sits just before Netty's WebSocket protocol handler, which closes the connection at once on any
 * exception: that would reset a client still sending and lose the NOTICE saying why. A bad frame
 * (too long, corrupt) is passed on past the protocol handler to {@link RelayFrameHandler}, which
 * answers it and closes with {@link LingeringClose}; anything else takes the usual way.
 */
@ChannelHandler.Sharable
final class BadFrameBypass extends ChannelInboundHandlerAdapter {
    static final BadFrameBypass INSTANCE = new BadFrameBypass();

    private BadFrameBypass() {}

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        ChannelHandlerContext protocol = ctx.pipeline().context(RelayChannelInitializer.WEBSOCKET);
        if (protocol != null && (cause instanceof TooLongFrameException || cause instanceof CorruptedWebSocketFrameException)) {
            protocol.fireExceptionCaught(cause);
        } else {
            ctx.fireExceptionCaught(cause);
        }
    }
}
