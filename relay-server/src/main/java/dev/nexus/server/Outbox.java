package dev.nexus.server;

import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Text frames other threads send to one connection (OKs from the writer and the verifiers),
 * handed to its event loop in one task and written as one buffer with one flush: a commit of 200
 * events from one client costs its loop one wake-up and one socket write, not 200.
 */
final class Outbox {
    private final Channel channel;
    private final Queue<String> frames = new ConcurrentLinkedQueue<>();
    private final AtomicBoolean scheduled = new AtomicBoolean();

    Outbox(Channel channel) {
        this.channel = channel;
    }

    /** Safe from any thread. */
    void add(String text) {
        frames.add(text);
        if (scheduled.compareAndSet(false, true)) {
            try {
                channel.eventLoop().execute(this::drain);
            } catch (RejectedExecutionException loopGone) {
                frames.clear(); // the relay is stopping: nobody is left to read it
            }
        }
    }

    private void drain() {
        // Cleared first: a frame added from here on is either taken by this drain or schedules the next.
        scheduled.set(false);
        ByteBuf out = null;
        for (String text; (text = frames.poll()) != null; ) {
            if (out == null) out = channel.alloc().buffer(256);
            WebSocketTextFrames.writeTextFrame(out, text);
        }
        if (out == null) return;
        if (channel.isActive()) channel.writeAndFlush(out, channel.voidPromise());
        else out.release();
    }
}
