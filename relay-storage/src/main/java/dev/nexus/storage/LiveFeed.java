package dev.nexus.storage;

import dev.nexus.core.Event;
import java.util.concurrent.CompletableFuture;
import java.util.function.Consumer;

/**
 * The seam between "an event was committed" and live fan-out. A single-node relay can feed its
 * subscribers straight from its own writer; a cluster needs every node to hear of every other
 * node's commits. An implementation delivers each committed event once, in commit order, on a
 * thread of its own, and carries ephemeral events (never stored) the same way.
 */
public interface LiveFeed extends AutoCloseable {

    /** A committed (or ephemeral) event as the feed delivers it; {@code seq} is its place in commit order. */
    record LiveEvent(long seq, Event event, boolean stored) {}

    /**
     * Starts delivering to {@code sink} every event committed from now on, by any node, in commit
     * order and each once. Returns once events committed after this call are sure to be delivered.
     */
    void start(Consumer<LiveEvent> sink);

    /**
     * Sends an ephemeral event to every node's live subscribers without storing it. The future
     * completes once the event is on its way (or with an {@code error:} result if it cannot be).
     */
    CompletableFuture<WriteResult> publish(Event ephemeral);

    /**
     * Called by this node, on its writer's completion, for each event it has just committed. A feed
     * that learns of commits from the database itself (every node's, in commit order) ignores it;
     * the in-process {@link LocalLiveFeed} is fed by it.
     */
    default void committedHere(Event stored) {
    }

    @Override
    void close();
}
