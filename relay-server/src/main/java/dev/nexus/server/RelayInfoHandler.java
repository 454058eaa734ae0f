package dev.nexus.server;

import dev.nexus.server.dashboard.Dashboard;
import dev.nexus.server.metrics.RelayMetrics;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.util.AttributeKey;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;

/**
 * Plain HTTP on the relay's port, before the WebSocket upgrade: the NIP-11 document for
 * {@code Accept: application/nostr+json}, CORS preflight, the marketplace dashboard for browsers, and the
 * per-IP connection cap for upgrade requests, which it passes on to the WebSocket handler.
 * Behind a reverse proxy the client's address comes from the configured real-IP header.
 */
@ChannelHandler.Sharable
final class RelayInfoHandler extends SimpleChannelInboundHandler<FullHttpRequest> {
    /** The address per-IP limits count this connection under, set when the upgrade request arrives. */
    static final AttributeKey<String> CLIENT_IP = AttributeKey.valueOf("nexus.clientIp");
    private static final int MAX_IP_LENGTH = 64;

    private volatile byte[] infoJson;
    private volatile byte[] page;
    /** NIP-86, when enabled; null otherwise. */
    private volatile dev.nexus.server.nip86.ManagementEndpoint management;
    private volatile java.util.function.Predicate<String> ipBlocked = ip -> false;
    private final RateLimiter limiter;
    private final String realIpHeader;
    private final RelayMetrics metrics;
    private final Dashboard dashboard;

    /** A relay without a dashboard: browsers get a short page naming the relay. */
    RelayInfoHandler(String infoJson, String name, String description, RateLimiter limiter, String realIpHeader, RelayMetrics metrics) {
        this(infoJson, name, description, limiter, realIpHeader, metrics, null);
    }

    /** {@code realIpHeader} is empty when clients connect directly; {@code dashboard} null serves the short page. */
    RelayInfoHandler(String infoJson, String name, String description, RateLimiter limiter, String realIpHeader, RelayMetrics metrics,
                     Dashboard dashboard) {
        super(false);
        this.metrics = metrics;
        this.dashboard = dashboard;
        show(infoJson, name, description);
        this.limiter = limiter;
        this.realIpHeader = realIpHeader;
    }

    /** Serves this NIP-11 document and page from now on (after a NIP-86 name or description change). */
    void show(String infoJson, String name, String description) {
        this.infoJson = infoJson.getBytes(StandardCharsets.UTF_8);
        this.page = ("<!doctype html><html><head><meta charset=\"utf-8\"><title>" + escape(name) + "</title></head><body><h1>"
                + escape(name) + "</h1><p>" + escape(description) + "</p><p>This is a Nostr relay. Connect with a Nostr client over "
                + "WebSocket at this address; relay information (NIP-11) is served for <code>Accept: application/nostr+json</code>.</p>"
                + "</body></html>\n").getBytes(StandardCharsets.UTF_8);
    }

    void manageWith(dev.nexus.server.nip86.ManagementEndpoint management, java.util.function.Predicate<String> ipBlocked) {
        this.management = management;
        this.ipBlocked = ipBlocked;
    }

    @Override
    protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest req) {
        if (!req.decoderResult().isSuccess()) {
            req.release();
            respond(ctx, req, HttpResponseStatus.BAD_REQUEST, "text/plain; charset=utf-8", "bad request\n".getBytes(StandardCharsets.UTF_8));
            return;
        }
        if (req.headers().containsValue(HttpHeaderNames.UPGRADE, HttpHeaderValues.WEBSOCKET, true)) {
            String forwarded = forwardedIp(req);
            String ip = forwarded != null ? forwarded : socketIp(ctx);
            ctx.channel().attr(CLIENT_IP).set(ip);
            if (ipBlocked.test(ip)) {
                metrics.connectionRefused("blocked_ip");
                req.release();
                respond(ctx, req, HttpResponseStatus.FORBIDDEN, "text/plain; charset=utf-8",
                        "blocked: this address may not connect\n".getBytes(StandardCharsets.UTF_8));
                return;
            }
            // Behind a proxy the socket's address is the proxy's: how often a client connects is
            // counted here, by the header's address; otherwise it was counted on accept.
            RateLimiter.ConnectRefusal refusal = limiter.tryConnect(ip, !realIpHeader.isEmpty());
            if (refusal != RateLimiter.ConnectRefusal.NONE) {
                boolean tooOften = refusal == RateLimiter.ConnectRefusal.TOO_OFTEN;
                metrics.connectionRefused(tooOften ? "connections_per_second" : "max_connections_per_ip");
                req.release();
                respond(ctx, req, HttpResponseStatus.TOO_MANY_REQUESTS, "text/plain; charset=utf-8",
                        (tooOften ? "rate-limited: connecting too often from your address\n" : "rate-limited: too many connections from your address\n")
                                .getBytes(StandardCharsets.UTF_8));
                return;
            }
            ctx.channel().closeFuture().addListener(f -> limiter.disconnected(ip));
            ctx.fireChannelRead(req);
            return;
        }
        try {
            dev.nexus.server.nip86.ManagementEndpoint admin = management;
            if (req.method().equals(HttpMethod.POST) && admin != null
                    && dev.nexus.server.nip86.ManagementEndpoint.isManagementCall(req.headers().get(HttpHeaderNames.CONTENT_TYPE))) {
                // Anyone may POST and each call costs a signature check: calls spend the caller's REQ budget,
                // so one address cannot keep the management thread busy (its queue is bounded as well).
                String forwarded = forwardedIp(req);
                if (!limiter.forIp(forwarded != null ? forwarded : socketIp(ctx)).tryTake(RateLimiter.Kind.REQS)) {
                    respond(ctx, req, HttpResponseStatus.TOO_MANY_REQUESTS, "application/json", dev.nexus.server.nip86.ManagementApi
                            .answer(null, "rate-limited: too many management calls from your address").getBytes(StandardCharsets.UTF_8));
                    return;
                }
                byte[] body = new byte[req.content().readableBytes()];
                req.content().getBytes(req.content().readerIndex(), body);
                admin.handle(req.headers().get(HttpHeaderNames.AUTHORIZATION), body, answer -> respond(ctx, req,
                        HttpResponseStatus.valueOf(answer.status()), "application/json", answer.json().getBytes(StandardCharsets.UTF_8)));
            } else if (req.method().equals(HttpMethod.OPTIONS)) {
                respond(ctx, req, HttpResponseStatus.NO_CONTENT, null, new byte[0]);
            } else if (!req.method().equals(HttpMethod.GET) && !req.method().equals(HttpMethod.HEAD)) {
                respond(ctx, req, HttpResponseStatus.METHOD_NOT_ALLOWED, "text/plain; charset=utf-8", "method not allowed\n".getBytes(StandardCharsets.UTF_8));
            } else if (metrics.servesPath(req.uri())) {
                RelayMetrics.Scrape scrape = metrics.scrape(forwardedIp(req), ctx.channel().remoteAddress());
                respond(ctx, req, HttpResponseStatus.valueOf(scrape.status()), scrape.contentType(), scrape.body());
            } else {
                respondToBrowserOrClient(ctx, req);
            }
        } finally {
            req.release();
        }
    }

    /** The dashboard's JSON and files by path; then NIP-11 for Nostr clients; then the page for browsers. */
    private void respondToBrowserOrClient(ChannelHandlerContext ctx, FullHttpRequest req) {
        Dashboard.Response asset = dashboard == null ? null : dashboard.asset(req.uri());
        if (asset != null) {
            respond(ctx, req, HttpResponseStatus.OK, asset.contentType(), asset.body());
        } else if (wantsRelayInfo(req)) {
            respond(ctx, req, HttpResponseStatus.OK, "application/nostr+json", infoJson);
        } else if (dashboard != null) {
            Dashboard.Response page = dashboard.page();
            respond(ctx, req, HttpResponseStatus.OK, page.contentType(), page.body());
        } else {
            respond(ctx, req, HttpResponseStatus.OK, "text/html; charset=utf-8", page);
        }
    }

    private static boolean wantsRelayInfo(FullHttpRequest req) {
        String accept = req.headers().get(HttpHeaderNames.ACCEPT);
        return accept != null && accept.toLowerCase().contains("application/nostr+json");
    }

    private static void respond(ChannelHandlerContext ctx, FullHttpRequest req, HttpResponseStatus status, String type, byte[] body) {
        boolean head = req.method().equals(HttpMethod.HEAD);
        FullHttpResponse res = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, status,
                head ? Unpooled.EMPTY_BUFFER : Unpooled.wrappedBuffer(body));
        if (type != null) res.headers().set(HttpHeaderNames.CONTENT_TYPE, type);
        res.headers().set(HttpHeaderNames.CONTENT_LENGTH, head ? body.length : res.content().readableBytes());
        res.headers().set(HttpHeaderNames.ACCESS_CONTROL_ALLOW_ORIGIN, "*");
        res.headers().set(HttpHeaderNames.ACCESS_CONTROL_ALLOW_HEADERS, "Authorization, *");
        res.headers().set(HttpHeaderNames.ACCESS_CONTROL_ALLOW_METHODS, "GET, HEAD, OPTIONS, POST");
        boolean keepAlive = HttpUtil.isKeepAlive(req) && status.code() < 400;
        if (keepAlive) {
            res.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.KEEP_ALIVE);
            ctx.writeAndFlush(res);
        } else {
            res.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
            ctx.writeAndFlush(res).addListener(ChannelFutureListener.CLOSE);
        }
    }

    /**
     * The client address the proxy put in the real-IP header: the last entry of the last header
     * line, which the nearest proxy appended (earlier lines and entries are whatever the client
     * sent). Null when absent or not an IP address.
     */
    private String forwardedIp(FullHttpRequest req) {
        if (realIpHeader.isEmpty()) return null;
        java.util.List<String> lines = req.headers().getAll(realIpHeader);
        if (lines.isEmpty()) return null;
        String value = lines.get(lines.size() - 1);
        String last = value.substring(value.lastIndexOf(',') + 1).trim();
        if (last.isEmpty() || last.length() > MAX_IP_LENGTH) return null;
        return IpAddresses.normalize(last);
    }

    /** The address this connection is counted under: the real-IP header's, else the socket's. */
    static String clientIp(ChannelHandlerContext ctx) {
        String ip = ctx.channel().attr(CLIENT_IP).get();
        return ip != null ? ip : socketIp(ctx);
    }

    private static String socketIp(ChannelHandlerContext ctx) {
        if (ctx.channel().remoteAddress() instanceof InetSocketAddress a && a.getAddress() != null) return IpAddresses.of(a.getAddress());
        return String.valueOf(ctx.channel().remoteAddress());
    }

    private static String escape(String s) {
        return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;");
    }
}
