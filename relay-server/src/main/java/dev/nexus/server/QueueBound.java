package dev.nexus.server;

import io.netty.channel.Channel;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A relay-wide bound on one kind of queued work (EVENTs between parse and OK, stored queries
 * waiting for a worker). Work a client already sent is still done, but past the bound the relay
 * stops reading from every client that adds to it, and reads them again once the backlog is
 * down to half: queues push back on the sockets instead of growing.
 */
public final class QueueBound {
    private final int max;
    private final AtomicInteger queued = new AtomicInteger();
    private final Set<Channel> paused = ConcurrentHashMap.newKeySet();

    public QueueBound(int max) {
        this.max = max;
    }

    /** Counts one task submitted for {@code ch}'s client. */
    public void enter(Channel ch) {
        if (queued.incrementAndGet() > max && paused.add(ch)) ReadGate.of(ch).pause(ReadGate.QUEUES);
    }

    /** Counts one task done. */
    public void exit() {
        if (queued.decrementAndGet() <= max / 2 && !paused.isEmpty()) {
            for (Channel ch : paused) {
                if (paused.remove(ch)) ReadGate.of(ch).resume(ReadGate.QUEUES);
            }
        }
    }

    public int queued() {
        return queued.get();
    }
}
