package dev.nexus.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.nexus.config.NexusConfig;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpVersion;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** The NIP-11 handler on Netty's EmbeddedChannel: no socket needed. */
class RelayInfoHandlerTest {
    private final NexusConfig config = NexusConfig.defaults();
    private final RelayInfoHandler handler = new RelayInfoHandler(RelayInfo.render(config, "1.2.3"), "Nexus", "desc",
            new RateLimiter(config.rateLimits()), "", metricsOf(config));

    static dev.nexus.server.metrics.RelayMetrics metricsOf(NexusConfig config) {
        return new dev.nexus.server.metrics.RelayMetrics(config.metrics(), config.marketplace().kinds());
    }

    private static FullHttpRequest upgrade(String forwardedFor) {
        FullHttpRequest req = get(null);
        req.headers().set(HttpHeaderNames.UPGRADE, "websocket").set(HttpHeaderNames.CONNECTION, "Upgrade");
        if (forwardedFor != null) req.headers().set("X-Forwarded-For", forwardedFor);
        return req;
    }

    /** The address the handler files an upgrade request under, given its X-Forwarded-For header. */
    private String clientIpBehindProxy(String forwardedFor) {
        RelayInfoHandler behindProxy = new RelayInfoHandler(RelayInfo.render(config, "1.2.3"), "Nexus", "desc",
                new RateLimiter(config.rateLimits()), "X-Forwarded-For", metricsOf(config));
        EmbeddedChannel ch = new EmbeddedChannel(behindProxy);
        FullHttpRequest req = upgrade(forwardedFor);
        ch.writeInbound(req);
        assertSame(req, ch.readInbound());
        req.release();
        return ch.attr(RelayInfoHandler.CLIENT_IP).get();
    }

    private static FullHttpRequest get(String accept) {
        FullHttpRequest req = new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.GET, "/");
        if (accept != null) req.headers().set(HttpHeaderNames.ACCEPT, accept);
        return req;
    }

    @Test
    void aNostrJsonRequestGetsTheRelayInformationDocument() {
        EmbeddedChannel ch = new EmbeddedChannel(handler);
        ch.writeInbound(get("application/nostr+json"));
        FullHttpResponse res = ch.readOutbound();
        assertEquals(200, res.status().code());
        assertEquals("application/nostr+json", res.headers().get(HttpHeaderNames.CONTENT_TYPE));
        String body = res.content().toString(StandardCharsets.UTF_8);
        assertTrue(body.contains("\"version\":\"1.2.3\""), body);
        assertTrue(body.contains("\"supported_nips\":[1,9,11,40,42,45,70,77,89,90]"), body);
        res.release();
    }

    @Test
    void aBrowserGetsAnHtmlPage() {
        EmbeddedChannel ch = new EmbeddedChannel(handler);
        ch.writeInbound(get("text/html"));
        FullHttpResponse res = ch.readOutbound();
        assertTrue(res.headers().get(HttpHeaderNames.CONTENT_TYPE).startsWith("text/html"));
        res.release();
    }

    @Test
    void anUpgradeRequestIsPassedOnToTheWebSocketHandler() {
        EmbeddedChannel ch = new EmbeddedChannel(handler);
        FullHttpRequest req = upgrade("203.0.113.7");
        ch.writeInbound(req);
        assertSame(req, ch.readInbound());
        assertNull(ch.readOutbound());
        req.release();
        assertEquals("embedded", ch.attr(RelayInfoHandler.CLIENT_IP).get(), "without real_ip_header the socket's address counts");
    }

    @Test
    void behindAProxyTheLastForwardedAddressIsTheClients() {
        assertEquals("203.0.113.7", clientIpBehindProxy("10.0.0.1, 203.0.113.7"));
        assertEquals("2001:db8::1", clientIpBehindProxy("2001:db8::1"));
        assertEquals("embedded", clientIpBehindProxy(null), "no header: the socket's address");
        assertEquals("embedded", clientIpBehindProxy("unknown"), "not an address: the socket's address");
    }

    @Test
    void otherMethodsAreRefused() {
        EmbeddedChannel ch = new EmbeddedChannel(handler);
        ch.writeInbound(new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.POST, "/"));
        FullHttpResponse res = ch.readOutbound();
        assertEquals(405, res.status().code());
        res.release();
    }
}
