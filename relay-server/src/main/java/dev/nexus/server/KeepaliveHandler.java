package dev.nexus.server;

import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.websocketx.PingWebSocketFrame;
import io.netty.handler.timeout.IdleState;
import io.netty.handler.timeout.IdleStateEvent;
import java.util.concurrent.TimeUnit;

/**
 * WebSocket keepalive, driven by a reader-idle IdleStateHandler just before it at the head of the
 * pipeline (so it sees every byte the client sends, pongs included). Whenever nothing has been read
 * for {@code ping_interval_seconds} it pings, however much the relay is writing: a subscriber that
 * only listens to a steady stream is still pinged, answers with pongs and so is never reaped. A
 * connection that has sent nothing at all, not even a pong, for {@code idle_timeout_seconds} is
 * closed. Connections that never upgraded (plain HTTP) are not pinged, only closed when idle.
 * Being at the head, it also sees every connection end, and counts it in {@link ConnectionCloses}.
 */
final class KeepaliveHandler extends ChannelDuplexHandler {
    private static final byte[] PING_PAYLOAD = {'n', 'x'};

    private final long pingIntervalNanos;
    private final long idleTimeoutNanos;
    private final ConnectionCloses closes;
    private long lastReadNanos = System.nanoTime();
    private long lastPingNanos = lastReadNanos;

    KeepaliveHandler(int pingIntervalSeconds, int idleTimeoutSeconds, ConnectionCloses closes) {
        this.pingIntervalNanos = TimeUnit.SECONDS.toNanos(pingIntervalSeconds);
        this.idleTimeoutNanos = TimeUnit.SECONDS.toNanos(idleTimeoutSeconds);
        this.closes = closes;
    }

    /**
     * How often the IdleStateHandler before this one should report reader idleness: a common
     * divisor of both intervals, so pings and the reaping happen on time, not a tick later.
     */
    static int tickSeconds(int pingIntervalSeconds, int idleTimeoutSeconds) {
        int a = pingIntervalSeconds, b = idleTimeoutSeconds;
        while (b != 0) {
            int t = a % b;
            a = b;
            b = t;
        }
        return a;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) throws Exception {
        lastReadNanos = System.nanoTime();
        super.channelRead(ctx, msg);
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) throws Exception {
        if (!(evt instanceof IdleStateEvent idle)) {
            super.userEventTriggered(ctx, evt);
            return;
        }
        if (idle.state() != IdleState.READER_IDLE) return;
        long now = System.nanoTime();
        if (now - lastReadNanos >= idleTimeoutNanos) {
            ConnectionCloses.mark(ctx.channel(), ConnectionCloses.Reason.IDLE);
            ctx.close();
        } else if (now - lastReadNanos >= pingIntervalNanos && now - lastPingNanos >= pingIntervalNanos
                && ctx.channel().hasAttr(Session.KEY)) {
            lastPingNanos = now;
            // From the tail, so the frame passes the WebSocket encoder further up the pipeline.
            ctx.channel().writeAndFlush(new PingWebSocketFrame(Unpooled.wrappedBuffer(PING_PAYLOAD)));
        }
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) throws Exception {
        closes.closed(ctx.channel(), RelayInfoHandler.clientIp(ctx));
        super.channelInactive(ctx);
    }
}
