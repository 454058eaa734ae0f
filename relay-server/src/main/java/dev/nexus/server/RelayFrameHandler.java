package dev.nexus.server;

import dev.nexus.core.RelayMessages;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.handler.codec.TooLongFrameException;
import io.netty.handler.codec.http.websocketx.CloseWebSocketFrame;
import io.netty.handler.codec.http.websocketx.CorruptedWebSocketFrameException;
import io.netty.handler.codec.http.websocketx.TextWebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketServerProtocolHandler;
import java.io.IOException;
import java.security.SecureRandom;
import java.util.HexFormat;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Turns WebSocket frames into calls on the dispatcher. Creates the connection's {@link Session}
 * when the upgrade completes (and sends the NIP-42 challenge), and tears it down on close.
 */
final class RelayFrameHandler extends SimpleChannelInboundHandler<WebSocketFrame> {
    private static final Logger log = LoggerFactory.getLogger(RelayFrameHandler.class);
    private static final SecureRandom RANDOM = new SecureRandom();

    private final MessageDispatcher dispatcher;
    private final ConnectionGate gate;
    private final long maxOutboundBytes;
    private final int maxMessageBytes;
    private final dev.nexus.server.metrics.RelayMetrics metrics;

    RelayFrameHandler(MessageDispatcher dispatcher, ConnectionGate gate, long maxOutboundBytes, int maxMessageBytes,
                      dev.nexus.server.metrics.RelayMetrics metrics) {
        this.metrics = metrics;
        this.dispatcher = dispatcher;
        this.gate = gate;
        this.maxOutboundBytes = maxOutboundBytes;
        this.maxMessageBytes = maxMessageBytes;
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) throws Exception {
        if (evt instanceof WebSocketServerProtocolHandler.HandshakeComplete handshake) {
            ctx.pipeline().remove(RelayChannelInitializer.RELAY_INFO);
            gate.upgraded(ctx.channel());
            byte[] challenge = new byte[16];
            RANDOM.nextBytes(challenge);
            Session session = new Session(ctx.channel(), RelayInfoHandler.clientIp(ctx), HexFormat.of().formatHex(challenge),
                    maxOutboundBytes, metrics);
            ctx.channel().attr(Session.KEY).set(session);
            dispatcher.onOpen(session);
            return;
        }
        super.userEventTriggered(ctx, evt);
    }

    @Override
    protected void channelRead0(ChannelHandlerContext ctx, WebSocketFrame frame) {
        Session session = ctx.channel().attr(Session.KEY).get();
        // A connection being closed is only read to drain what the client still sends (LingeringClose).
        if (session == null || session.isClosing()) return;
        if (!(frame instanceof TextWebSocketFrame)) {
            session.send(RelayMessages.notice("invalid: only text frames carrying JSON are accepted"));
            return;
        }
        ByteBuf content = frame.content();
        int length = content.readableBytes();
        if (content.hasArray()) {
            dispatcher.onText(session, content.array(), content.arrayOffset() + content.readerIndex(), length);
        } else {
            dispatcher.onText(session, ByteBufUtil.getBytes(content, content.readerIndex(), length, false), 0, length);
        }
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) throws Exception {
        Session session = ctx.channel().attr(Session.KEY).get();
        if (session != null && ctx.channel().isWritable()) session.drainStored();
        super.channelWritabilityChanged(ctx);
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) throws Exception {
        Session session = ctx.channel().attr(Session.KEY).get();
        if (session != null) dispatcher.onClose(session);
        super.channelInactive(ctx);
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        if (cause instanceof TooLongFrameException || cause instanceof CorruptedWebSocketFrameException) {
            // A client mistake, not a relay fault: say why, then close, since the frame stream is no longer in sync.
            Session session = ctx.channel().attr(Session.KEY).get();
            if (session != null && session.isClosing()) return;
            log.debug("closing {}: {}", RelayInfoHandler.clientIp(ctx), cause.getMessage()); // summed up once a minute (ConnectionCloses)
            ConnectionCloses.mark(ctx.channel(), ConnectionCloses.Reason.BAD_FRAME);
            if (ctx.channel().isActive()) {
                ctx.write(new TextWebSocketFrame(RelayMessages.notice("invalid: message larger than " + maxMessageBytes + " bytes or malformed frame")));
                // 1007 for invalid UTF-8, 1002 for a broken frame, 1009 for one too large.
                int code = cause instanceof CorruptedWebSocketFrameException c && c.closeStatus() != null ? c.closeStatus().code() : 1009;
                String reason = code == 1009 ? "message too big" : "invalid frame";
                if (session != null) session.closeWith(code, reason);
                else LingeringClose.close(ctx.channel(), new CloseWebSocketFrame(code, reason));
            }
        } else if (cause instanceof IOException || isTlsMistake(cause)) {
            log.debug("connection error from {}: {}", RelayInfoHandler.clientIp(ctx), cause.toString());
            ConnectionCloses.mark(ctx.channel(), ConnectionCloses.Reason.ERROR);
            ctx.close();
        } else {
            log.warn("unexpected error on connection from {}: {}", RelayInfoHandler.clientIp(ctx), cause.toString());
            ConnectionCloses.mark(ctx.channel(), ConnectionCloses.Reason.ERROR);
            ctx.close();
        }
    }

    /**
     * Plain bytes to a TLS port, or a handshake the client cannot complete: the client's doing, so
     * counted, not logged (Netty reports them wrapped in a DecoderException, with the bytes in hex).
     */
    static boolean isTlsMistake(Throwable cause) {
        for (Throwable t = cause; t != null; t = t.getCause() == t ? null : t.getCause()) {
            if (t instanceof javax.net.ssl.SSLException) return true; // NotSslRecordException is one
        }
        return false;
    }
}
