package dev.nexus.server;

import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.EventLoopGroup;
import io.netty.util.concurrent.EventExecutor;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Shutdown without losing an answer: stop reading from every client, wait until every EVENT
 * already read has its OK (sent after commit), then close each WebSocket with a close frame and
 * {@link LingeringClose}, waiting (at most its linger and half a second more, for all of them
 * together) until the clients have answered it.
 */
final class OrderlyShutdown {
    private static final Logger log = LoggerFactory.getLogger(OrderlyShutdown.class);

    private OrderlyShutdown() {}

    static void answerWhatWasReadThenSayGoodbye(ConnectionGate gate, MessageDispatcher dispatcher, EventLoopGroup ioLoops) {
        for (Channel ch : gate.open()) ReadGate.of(ch).pause(ReadGate.SHUTDOWN);
        dispatcher.refuseNewEvents();
        // An EVENT being handled on an event loop right now may not be counted yet: let every loop finish its current task.
        for (EventExecutor loop : ioLoops) loop.submit(() -> { }).awaitUninterruptibly(2, TimeUnit.SECONDS);
        log.info("shutdown: stopped reading from {} connections; answering what was read", gate.open().size());
        try {
            if (!dispatcher.awaitEventsAnswered(10_000)) log.warn("shutdown: some EVENTs were still unanswered after 10 s");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        // A lingering close, not a plain one: a client still sending has bytes unread in our socket, and
        // closing on them resets the connection, which throws away the OKs it had not read yet.
        List<ChannelFuture> closed = new ArrayList<>();
        for (Channel ch : gate.open()) {
            Session session = ch.attr(Session.KEY).get();
            if (session == null) continue;
            session.closeWith(1001, "relay shutting down");
            closed.add(ch.closeFuture());
        }
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(LingeringClose.LINGER_MILLIS + 500);
        for (ChannelFuture f : closed) f.awaitUninterruptibly(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
    }

    /** Lets a pool finish what it has (a query, a verification) for up to 10 seconds. */
    static void stop(ExecutorService pool) {
        if (pool == null) return;
        pool.shutdown();
        try {
            pool.awaitTermination(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
