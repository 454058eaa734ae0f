package dev.nexus.server;

import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.handler.codec.http.websocketx.CloseWebSocketFrame;
import io.netty.util.AttributeKey;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * Closes a connection the relay is refusing so that the client still reads why. Closing a socket
 * whose receive buffer holds unread bytes (a client flooding us is still sending) makes the kernel
 * answer with a reset, and a reset can discard what the client had not yet read: the OKs and
 * the close frame explaining the refusal. So the relay sends its close frame and, as RFC 6455
 * section 7.1.1 asks, waits for the client's: it keeps reading and discarding (whatever had paused
 * reading, see {@link ReadGate#drainForClose}) until the client's close frame arrives (Netty's
 * protocol handler then closes) or the client goes away, and closes at the latest after
 * {@link #LINGER_MILLIS}, so a refused client holds a connection slot no longer than that. It does
 * not half-close first: some clients (the JDK's) treat the end of input before they have read the
 * close frame as an error and drop what they had not yet read.
 */
final class LingeringClose {
    static final long LINGER_MILLIS = 1_000;
    private static final AttributeKey<Boolean> LINGERING = AttributeKey.valueOf("nexus.lingering");

    private LingeringClose() {}

    /** Writes {@code frame} after what is queued, then closes as described above. Event loop or not. */
    static void close(Channel channel, CloseWebSocketFrame frame) {
        channel.attr(LINGERING).set(Boolean.TRUE);
        channel.writeAndFlush(frame).addListener(ChannelFutureListener.CLOSE_ON_FAILURE);
        ReadGate.of(channel).drainForClose();
        try {
            ScheduledFuture<?> deadline = channel.eventLoop().schedule(() -> channel.close(), LINGER_MILLIS, TimeUnit.MILLISECONDS);
            channel.closeFuture().addListener(closed -> deadline.cancel(false));
        } catch (RejectedExecutionException loopGone) {
            channel.close(); // the relay is stopping
        }
    }

    /** Whether the relay's close frame has been sent and the connection is only drained until it closes. */
    static boolean isLingering(Channel channel) {
        return Boolean.TRUE.equals(channel.attr(LINGERING).get());
    }
}
