package dev.nexus.server;

import io.netty.channel.Channel;
import io.netty.util.AttributeKey;
import java.util.EnumMap;
import java.util.Map;
import java.util.concurrent.atomic.LongAdder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Why connections end, counted by reason. Whoever closes a connection on purpose marks the reason
 * on the channel first; a connection that ends unmarked was closed by the client (or the network).
 * Each close is logged at debug; {@link #logRecent()} sums up the relay-initiated ones for operators.
 */
final class ConnectionCloses {
    private static final Logger log = LoggerFactory.getLogger(ConnectionCloses.class);
    private static final AttributeKey<Reason> REASON = AttributeKey.valueOf("nexus.closeReason");

    enum Reason {
        /** The client closed the socket or sent a close frame. */
        CLIENT("client closed"),
        /** Nothing read (no frame, no pong) for idle_timeout_seconds. */
        IDLE("idle, reaped"),
        /** More unread output queued than max_outbound_bytes. */
        SLOW_CONSUMER("slow consumer"),
        /** A frame too large or malformed. */
        BAD_FRAME("bad frame"),
        /** An I/O or unexpected error on the connection. */
        ERROR("error");

        final String label;

        Reason(String label) {
            this.label = label;
        }
    }

    private final Map<Reason, LongAdder> total = new EnumMap<>(Reason.class);
    private final Map<Reason, LongAdder> sinceLastLog = new EnumMap<>(Reason.class);

    ConnectionCloses() {
        for (Reason r : Reason.values()) {
            total.put(r, new LongAdder());
            sinceLastLog.put(r, new LongAdder());
        }
    }

    /** Records why the relay is about to close this channel; the first reason given wins. */
    static void mark(Channel channel, Reason reason) {
        channel.attr(REASON).setIfAbsent(reason);
    }

    /** Counts a channel that has just become inactive. */
    void closed(Channel channel, String remoteIp) {
        Reason reason = channel.attr(REASON).get();
        if (reason == null) reason = Reason.CLIENT;
        total.get(reason).increment();
        sinceLastLog.get(reason).increment();
        log.debug("connection from {} closed: {}", remoteIp, reason.label);
    }

    long count(Reason reason) {
        return total.get(reason).sum();
    }

    /** One info line summing up the closes the relay made since the last call; quiet when there were none. */
    void logRecent() {
        StringBuilder line = new StringBuilder();
        for (Reason r : Reason.values()) {
            long n = sinceLastLog.get(r).sumThenReset();
            if (r == Reason.CLIENT || n == 0) continue;
            if (line.length() > 0) line.append(", ");
            line.append(n).append(' ').append(r.label);
        }
        if (line.length() > 0) log.info("connections closed by the relay recently: {}", line);
    }
}
