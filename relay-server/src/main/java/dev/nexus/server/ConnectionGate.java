package dev.nexus.server;

import dev.nexus.server.metrics.RelayMetrics;
import io.netty.channel.Channel;
import io.netty.util.AttributeKey;
import io.netty.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Relay-wide bounds on sockets: at most {@code max_connections} in all, at most
 * {@code max_pre_upgrade_connections} that have not yet completed the WebSocket upgrade, and each
 * of those must finish its HTTP request and upgrade within {@code http_request_timeout_seconds}
 * (a slowloris client sending one header byte a minute is closed). A socket over a cap is closed
 * on accept, before any byte of it is read.
 */
final class ConnectionGate {
    private static final Logger log = LoggerFactory.getLogger(ConnectionGate.class);
    private static final AttributeKey<ScheduledFuture<?>> PRE_UPGRADE = AttributeKey.valueOf("nexus.preUpgrade");

    private final int maxConnections;
    private final int maxPreUpgrade;
    private final long requestTimeoutSeconds;
    private final AtomicInteger connections = new AtomicInteger();
    private final AtomicInteger preUpgrade = new AtomicInteger();
    private final io.netty.channel.group.ChannelGroup open =
            new io.netty.channel.group.DefaultChannelGroup(io.netty.util.concurrent.GlobalEventExecutor.INSTANCE);
    private volatile long lastRefusalLog;
    private final RelayMetrics metrics;
    /** NIP-86 blocked addresses, checked against the socket's address on accept. */
    private volatile java.util.function.Predicate<String> ipBlocked = ip -> false;
    /** How often one address may connect, checked on accept against the socket's address ({@link RateLimiter#connectsTooOften}). */
    private volatile java.util.function.Predicate<String> connectsTooOften = ip -> false;

    ConnectionGate(int maxConnections, int maxPreUpgrade, long requestTimeoutSeconds, RelayMetrics metrics) {
        this.metrics = metrics;
        this.maxConnections = maxConnections;
        this.maxPreUpgrade = maxPreUpgrade;
        this.requestTimeoutSeconds = requestTimeoutSeconds;
    }

    void refuseBlockedIps(java.util.function.Predicate<String> ipBlocked) {
        this.ipBlocked = ipBlocked;
    }

    void refuseTooFrequentConnects(java.util.function.Predicate<String> connectsTooOften) {
        this.connectsTooOften = connectsTooOften;
    }

    /**
     * Sits in the listening channel's pipeline, before Netty hands an accepted socket to an event
     * loop: a socket from a blocked address, or from one connecting more often than its budget, is
     * closed there, never registered nor given a pipeline. Refused in {@link #admit} instead, each
     * such socket cost about 63 µs of the relay's CPU (one address churning connections: 0.33 of a
     * core); here about 56 µs (0.26 of a core): what is left is the kernel's accept and close.
     */
    io.netty.channel.ChannelHandler acceptFilter() {
        return new AcceptFilter();
    }

    @io.netty.channel.ChannelHandler.Sharable
    private final class AcceptFilter extends io.netty.channel.ChannelInboundHandlerAdapter {
        @Override
        public void channelRead(io.netty.channel.ChannelHandlerContext ctx, Object msg) {
            if (msg instanceof Channel child && child.remoteAddress() instanceof java.net.InetSocketAddress a && a.getAddress() != null) {
                String ip = IpAddresses.of(a.getAddress());
                String refusal = ipBlocked.test(ip) ? "blocked_ip" : connectsTooOften.test(ip) ? "connections_per_second" : null;
                if (refusal != null) {
                    metrics.connectionRefused(refusal);
                    child.unsafe().closeForcibly();
                    return;
                }
            }
            ctx.fireChannelRead(msg);
        }
    }

    /** Counts a new socket (its address already passed {@link #acceptFilter}); false (and it is closed) when a cap is reached. */
    boolean admit(Channel ch) {
        if (connections.incrementAndGet() > maxConnections) {
            connections.decrementAndGet();
            refuse(ch, "max_connections " + maxConnections);
            return false;
        }
        if (preUpgrade.incrementAndGet() > maxPreUpgrade) {
            preUpgrade.decrementAndGet();
            connections.decrementAndGet();
            refuse(ch, "max_pre_upgrade_connections " + maxPreUpgrade);
            return false;
        }
        ScheduledFuture<?> deadline = ch.eventLoop().schedule(() -> {
            if (ch.attr(PRE_UPGRADE).get() != null) ch.close();
        }, requestTimeoutSeconds, TimeUnit.SECONDS);
        ch.attr(PRE_UPGRADE).set(deadline);
        open.add(ch);
        metrics.connectionOpened();
        ch.closeFuture().addListener(f -> {
            connections.decrementAndGet();
            leavePreUpgrade(ch);
        });
        return true;
    }

    /** Sockets open now, upgraded or not. */
    int connections() {
        return connections.get();
    }

    /** Every open socket (for shutdown). */
    /** How many distinct pubkeys the open WebSockets have authenticated as (the dashboard's "agents"). */
    int authenticatedPubkeys() {
        java.util.Set<String> pubkeys = new java.util.HashSet<>();
        for (io.netty.channel.Channel ch : open()) {
            Session session = ch.attr(Session.KEY).get();
            if (session != null) pubkeys.addAll(session.authenticatedPubkeys());
        }
        return pubkeys.size();
    }

    io.netty.channel.group.ChannelGroup open() {
        return open;
    }

    /**
     * Closes every WebSocket connection whose client address (the real-IP header's when there is
     * one) is {@code ip}. Plain HTTP requests in progress are left to finish (one of them may be
     * the operator's blockip call, whose answer is still to be written); their next connection is refused.
     */
    void closeFrom(String ip) {
        for (Channel ch : open) {
            if (ch.attr(Session.KEY).get() == null) continue;
            String clientIp = ch.attr(RelayInfoHandler.CLIENT_IP).get();
            if (clientIp == null && ch.remoteAddress() instanceof java.net.InetSocketAddress a && a.getAddress() != null) {
                clientIp = IpAddresses.of(a.getAddress());
            }
            if (ip.equals(clientIp)) ch.close();
        }
    }

    /** The socket completed the WebSocket upgrade: it no longer counts as pre-upgrade nor has a deadline. */
    void upgraded(Channel ch) {
        leavePreUpgrade(ch);
    }

    private void leavePreUpgrade(Channel ch) {
        ScheduledFuture<?> deadline = ch.attr(PRE_UPGRADE).getAndSet(null);
        if (deadline != null) {
            deadline.cancel(false);
            preUpgrade.decrementAndGet();
        }
    }

    private void refuse(Channel ch, String cap) {
        metrics.connectionRefused(cap);
        long now = System.nanoTime();
        if (now - lastRefusalLog > TimeUnit.SECONDS.toNanos(10)) { // one line per burst, not one per socket
            lastRefusalLog = now;
            log.warn("refusing connections: {} reached", cap);
        }
        ch.close();
    }
}
