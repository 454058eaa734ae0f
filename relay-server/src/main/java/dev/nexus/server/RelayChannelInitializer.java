package dev.nexus.server;

import dev.nexus.config.NexusConfig;
import dev.nexus.server.metrics.RelayMetrics;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.socket.SocketChannel;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.websocketx.WebSocketDecoderConfig;
import io.netty.handler.codec.http.websocketx.WebSocketFrameAggregator;
import io.netty.handler.codec.http.websocketx.WebSocketServerProtocolConfig;
import io.netty.handler.codec.http.websocketx.WebSocketServerProtocolHandler;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.timeout.IdleStateHandler;
import java.util.concurrent.TimeUnit;

/**
 * The one place the connection pipeline is assembled, in order:
 * the outbound budget (next to the socket, so it sees every byte written), TLS (when the relay terminates it),
 * reader-idle detection, keepalive (pings, reaping, close accounting), HTTP codec,
 * HTTP aggregation, NIP-11/HTTP (removed after the upgrade), the closing-handshake guard (so a bad frame is answered
 * before the close, and a late write does not cut the close short), WebSocket protocol, WebSocket message aggregation,
 * relay frames (dispatch).
 * The HTTP aggregator is removed by Netty's handshaker once the connection is a WebSocket.
 */
final class RelayChannelInitializer extends ChannelInitializer<SocketChannel> {
    static final String OUTBOUND_BUDGET = "outbound-budget";
    static final String TLS = "tls";
    static final String IDLE = "idle";
    static final String HTTP_CODEC = "http-codec";
    static final String HTTP_AGGREGATOR = "http-aggregator";
    static final String RELAY_INFO = "relay-info";
    static final String CLOSING_HANDSHAKE_GUARD = "closing-handshake-guard";
    static final String WEBSOCKET = "websocket";
    static final String WEBSOCKET_AGGREGATOR = "websocket-aggregator";
    static final String KEEPALIVE = "keepalive";
    static final String RELAY_FRAMES = "relay-frames";

    /** HTTP requests before the upgrade are small: headers only. */
    private static final int MAX_HTTP_REQUEST_BYTES = 16 * 1024;

    private final NexusConfig config;
    private final RelayInfoHandler relayInfo;
    private final MessageDispatcher dispatcher;
    private final SslContext tls;
    private final ConnectionCloses closes;
    private final ConnectionGate gate;
    private final WebSocketServerProtocolConfig wsConfig;
    private final RelayMetrics metrics;

    /** {@code tls} is null when connections arrive in plain text (directly or from a TLS proxy). */
    RelayChannelInitializer(NexusConfig config, RelayInfoHandler relayInfo, MessageDispatcher dispatcher, SslContext tls,
                            ConnectionCloses closes, ConnectionGate gate, RelayMetrics metrics) {
        this.metrics = metrics;
        this.config = config;
        this.closes = closes;
        this.tls = tls;
        this.relayInfo = relayInfo;
        this.dispatcher = dispatcher;
        this.gate = gate;
        this.wsConfig = WebSocketServerProtocolConfig.newBuilder()
                .websocketPath("/")
                .checkStartsWith(true)
                .handshakeTimeoutMillis(10_000)
                .decoderConfig(WebSocketDecoderConfig.newBuilder()
                        .maxFramePayloadLength(config.limits().maxMessageBytes())
                        .allowExtensions(true)
                        // RelayFrameHandler answers a bad frame itself: a NOTICE first, then a lingering close.
                        .closeOnProtocolViolation(false)
                        .build())
                .build();
    }

    @Override
    protected void initChannel(SocketChannel ch) {
        NexusConfig.Server s = config.server();
        if (!gate.admit(ch)) return;
        ChannelPipeline p = ch.pipeline();
        p.addLast(OUTBOUND_BUDGET, new OutboundBudget(config.limits().maxOutboundBytes()));
        if (tls != null) p.addLast(TLS, tls.newHandler(ch.alloc()));
        // Reader idleness only: a subscriber being written to all the time must still be pinged.
        p.addLast(IDLE, new IdleStateHandler(KeepaliveHandler.tickSeconds(s.pingIntervalSeconds(), s.idleTimeoutSeconds()), 0, 0, TimeUnit.SECONDS));
        p.addLast(KEEPALIVE, new KeepaliveHandler(s.pingIntervalSeconds(), s.idleTimeoutSeconds(), closes));
        p.addLast(HTTP_CODEC, new HttpServerCodec());
        p.addLast(HTTP_AGGREGATOR, new HttpObjectAggregator(MAX_HTTP_REQUEST_BYTES));
        p.addLast(RELAY_INFO, relayInfo);
        p.addLast(WEBSOCKET, new WebSocketServerProtocolHandler(wsConfig));
        // Added after the protocol handler, which puts its handshake handler and UTF-8 validator just before itself.
        p.addBefore(WEBSOCKET, CLOSING_HANDSHAKE_GUARD, ClosingHandshakeGuard.INSTANCE);
        p.addLast(WEBSOCKET_AGGREGATOR, new WebSocketFrameAggregator(config.limits().maxMessageBytes()));
        p.addLast(RELAY_FRAMES, new RelayFrameHandler(dispatcher, gate, config.limits().maxOutboundBytes(), config.limits().maxMessageBytes(), metrics));
    }
}
