package dev.nexus.server;

import io.netty.channel.Channel;
import io.netty.util.AttributeKey;

/**
 * The one owner of a connection's auto-read flag. Several rules may each ask the relay to stop
 * reading from a client (its unread output is too large, too many of its EVENTs are in flight,
 * a shared queue is full); the socket is read again only when none of them still asks.
 */
public final class ReadGate {
    /** The client's unread output passed the high-water mark. */
    public static final int OUTBOUND = 1;
    /** Too many of its EVENTs are between parse and OK. */
    public static final int EVENTS_IN_FLIGHT = 2;
    /** A shared queue (verifiers, writer, query workers) is full. */
    public static final int QUEUES = 4;
    /** Too many of its AUTH frames are being verified. */
    public static final int AUTH_IN_FLIGHT = 8;
    /** The relay is shutting down: what was read is answered, nothing more is read. */
    public static final int SHUTDOWN = 16;

    private static final AttributeKey<ReadGate> KEY = AttributeKey.valueOf("nexus.readGate");

    private final Channel channel;
    private int reasons;
    private boolean draining;

    private ReadGate(Channel channel) {
        this.channel = channel;
    }

    public static ReadGate of(Channel channel) {
        ReadGate gate = channel.attr(KEY).get();
        if (gate == null) {
            ReadGate created = new ReadGate(channel);
            gate = channel.attr(KEY).setIfAbsent(created);
            if (gate == null) gate = created;
        }
        return gate;
    }

    public synchronized void pause(int reason) {
        reasons |= reason;
        if (!draining) channel.config().setAutoRead(false);
    }

    /**
     * The connection is closing (LingeringClose): read from now on whatever paused it, so that the
     * client's close frame is seen and its unread bytes do not turn the close into a reset. What is
     * read then is discarded, so none of the reasons to pause applies any more.
     */
    public synchronized void drainForClose() {
        draining = true;
        channel.config().setAutoRead(true);
    }

    public synchronized void resume(int reason) {
        reasons &= ~reason;
        if (reasons == 0) channel.config().setAutoRead(true);
    }

    public synchronized boolean paused(int reason) {
        return (reasons & reason) != 0;
    }
}
