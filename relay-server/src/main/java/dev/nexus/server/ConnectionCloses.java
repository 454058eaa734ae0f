package dev.nexus.server;

import io.netty.channel.Channel;
import io.netty.util.AttributeKey;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Why connections end, counted by reason. Whoever closes a connection on purpose marks the reason
 * on the channel first; a connection that ends unmarked was closed by the client (or the network).
 * Each close is logged at debug; {@link #logRecent()} sums up the relay-initiated ones for operators,
 * once a minute, with the addresses that caused most of them. A client's own mistakes are never one
 * log line each: one client sending bad frames on fresh connections wrote 2,180 lines a second
 * (19 GB of log a day) when each close was logged at info.
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
        /** Too many failed NIP-42 AUTH attempts on one connection. */
        AUTH_FAILURES("too many failed AUTH"),
        /** An I/O or unexpected error on the connection. */
        ERROR("error");

        final String label;

        Reason(String label) {
            this.label = label;
        }
    }

    private final Map<Reason, LongAdder> total = new EnumMap<>(Reason.class);
    private final Map<Reason, LongAdder> sinceLastLog = new EnumMap<>(Reason.class);
    /**
     * Since the last summary, relay-initiated closes by reason and client ({@link RateLimiter#clientOf}:
     * an IPv6 client is its /64); at most {@link #MAX_ADDRESSES} clients, the rest counted together.
     * Swapped for a fresh map at each summary, so no close falls between reading and clearing.
     */
    private final Map<Reason, java.util.concurrent.atomic.AtomicReference<Map<String, LongAdder>>> byAddress = new EnumMap<>(Reason.class);
    static final int MAX_ADDRESSES = 1024;
    private static final String OTHERS = "";
    private static final int ADDRESSES_SHOWN = 3;

    ConnectionCloses() {
        for (Reason r : Reason.values()) {
            total.put(r, new LongAdder());
            sinceLastLog.put(r, new LongAdder());
            byAddress.put(r, new java.util.concurrent.atomic.AtomicReference<>(new ConcurrentHashMap<>()));
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
        if (reason != Reason.CLIENT) {
            Map<String, LongAdder> addresses = byAddress.get(reason).get();
            String client = RateLimiter.clientOf(remoteIp);
            LongAdder n = addresses.get(client);
            // Past the bound (addresses spread wide), the close counts as "from other addresses".
            if (n == null) n = addresses.size() < MAX_ADDRESSES ? addresses.computeIfAbsent(client, ip -> new LongAdder()) : addresses.computeIfAbsent(OTHERS, ip -> new LongAdder());
            n.increment();
        }
        log.debug("connection from {} closed: {}", remoteIp, reason.label);
    }

    long count(Reason reason) {
        return total.get(reason).sum();
    }

    /**
     * One info line summing up the closes the relay made since the last call, each reason with the
     * addresses behind most of it; quiet when there were none.
     */
    void logRecent() {
        String line = recentSummary();
        if (!line.isEmpty()) log.info("connections closed by the relay in the last minute: {}", line);
    }

    /** What {@link #logRecent} writes, and resets the counts it reports. */
    String recentSummary() {
        StringBuilder line = new StringBuilder();
        for (Reason r : Reason.values()) {
            Map<String, LongAdder> addresses = byAddress.get(r).getAndSet(new ConcurrentHashMap<>());
            long n = sinceLastLog.get(r).sumThenReset();
            if (r == Reason.CLIENT || n == 0) continue;
            List<Map.Entry<String, Long>> top = new ArrayList<>();
            long others = 0;
            for (Map.Entry<String, LongAdder> e : addresses.entrySet()) {
                if (e.getKey().equals(OTHERS)) others = e.getValue().sum();
                else top.add(Map.entry(e.getKey(), e.getValue().sum()));
            }
            if (line.length() > 0) line.append(", ");
            line.append(n).append(' ').append(r.label);
            top.sort(Comparator.comparing((Map.Entry<String, Long> e) -> e.getValue()).reversed().thenComparing(Map.Entry::getKey));
            if (top.isEmpty()) continue;
            line.append(" (");
            for (int i = 0; i < Math.min(ADDRESSES_SHOWN, top.size()); i++) {
                if (i > 0) line.append(", ");
                line.append(top.get(i).getKey()).append(' ').append(top.get(i).getValue());
            }
            if (top.size() > ADDRESSES_SHOWN) line.append(", ").append(top.size() - ADDRESSES_SHOWN).append(" more addresses");
            if (others > 0) line.append(", ").append(others).append(" from other addresses");
            line.append(')');
        }
        return line.toString();
    }
}
