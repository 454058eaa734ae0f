package dev.nexus.server;

import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.websocketx.PingWebSocketFrame;
import io.netty.handler.timeout.IdleStateEvent;

/**
 * WebSocket keepalive, driven by the IdleStateHandler at the head of the pipeline: after
 * {@code ping_interval_seconds} without traffic it pings, so proxies that drop idle sockets keep
 * agents connected; after {@code idle_timeout_seconds} without anything read (not even a pong)
 * it closes the connection. Pings from clients are answered by Netty's WebSocket handler.
 */
final class KeepaliveHandler extends ChannelDuplexHandler {
    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) throws Exception {
        if (evt instanceof IdleStateEvent idle) {
            switch (idle.state()) {
                case ALL_IDLE -> {
                    // Only WebSocket connections get pings; plain HTTP keep-alive just times out.
                    if (ctx.channel().hasAttr(Session.KEY)) ctx.writeAndFlush(new PingWebSocketFrame(Unpooled.wrappedBuffer(new byte[] {'n', 'x'})));
                }
                case READER_IDLE -> ctx.close();
                default -> { }
            }
            return;
        }
        super.userEventTriggered(ctx, evt);
    }
}
