package dev.nexus.server;

import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelOutboundBuffer;
import io.netty.channel.ChannelPromise;
import io.netty.util.ReferenceCountUtil;
import java.util.ArrayDeque;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The bound on what a client may leave unread, whatever produced it: NIP-11 answers before the
 * upgrade, OK/NOTICE/CLOSED/COUNT replies, stored results, live events. It sits first in the
 * pipeline, next to the socket, so every byte written to this client passes it.
 *
 * <p>Past the channel's high-water mark the relay stops reading from the client: what it already
 * read but not yet handled waits here (at most one socket read), so a client that sends requests
 * and never reads the answers gets no more answers made. Past {@code max_outbound_bytes} (live
 * fan-out can still add to a stalled client) the connection is dropped.
 */
final class OutboundBudget extends ChannelDuplexHandler {
    private static final Logger log = LoggerFactory.getLogger(OutboundBudget.class);

    private final long maxOutboundBytes;
    private final ArrayDeque<Object> unhandled = new ArrayDeque<>();
    private boolean dropped;

    OutboundBudget(long maxOutboundBytes) {
        this.maxOutboundBytes = maxOutboundBytes;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (!unhandled.isEmpty() || !ctx.channel().isWritable()) {
            unhandled.add(msg);
            ReadGate.of(ctx.channel()).pause(ReadGate.OUTBOUND);
            return;
        }
        ctx.fireChannelRead(msg);
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
        if (ctx.channel().isWritable()) {
            boolean replayed = false;
            while (!unhandled.isEmpty() && ctx.channel().isWritable() && ctx.channel().isActive()) {
                ctx.fireChannelRead(unhandled.poll());
                replayed = true;
            }
            if (replayed) ctx.fireChannelReadComplete();
            if (unhandled.isEmpty() && ctx.channel().isWritable()) ReadGate.of(ctx.channel()).resume(ReadGate.OUTBOUND);
        }
        ctx.fireChannelWritabilityChanged();
    }

    @Override
    public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
        ctx.write(msg, promise);
        if (dropped) return;
        ChannelOutboundBuffer out = ctx.channel().unsafe().outboundBuffer();
        long pending = out == null ? 0 : out.totalPendingWriteBytes();
        if (pending > maxOutboundBytes) {
            dropped = true;
            ConnectionCloses.mark(ctx.channel(), ConnectionCloses.Reason.SLOW_CONSUMER);
            log.debug("dropping {}: {} bytes of output left unread (max_outbound_bytes {})", // summed up once a minute
                    RelayInfoHandler.clientIp(ctx), pending, maxOutboundBytes);
            ctx.close();
        }
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        releaseUnhandled();
        ctx.fireChannelInactive();
    }

    @Override
    public void handlerRemoved(ChannelHandlerContext ctx) {
        releaseUnhandled();
    }

    private void releaseUnhandled() {
        Object m;
        while ((m = unhandled.poll()) != null) ReferenceCountUtil.release(m);
    }
}
