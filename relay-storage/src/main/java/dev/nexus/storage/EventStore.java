package dev.nexus.storage;

import dev.nexus.core.Event;
import dev.nexus.core.Filter;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * The seam between the relay and its storage backend. Writes are asynchronous and complete only
 * once durable; reads are blocking and are called from the relay's query workers, never from
 * an I/O thread.
 */
public interface EventStore extends AutoCloseable {

    /**
     * Stores a non-ephemeral event (including NIP-09 deletions), applying replaceable/addressable
     * rules. The future completes after the transaction holding the event has committed.
     */
    CompletableFuture<WriteResult> write(Event event);

    /** Stored events matching {@code filter}, newest first (created_at desc, id asc), at most {@code limit}, as wire JSON. */
    List<StoredEvent> query(Filter filter, int limit, long nowSeconds);

    /** How many distinct stored, unexpired events match any of {@code filters}; limits are ignored (NIP-45). */
    long count(List<Filter> filters, long nowSeconds);

    /** Receives (created_at, id) pairs from {@link #scanIdsAscending}. */
    @FunctionalInterface
    interface IdConsumer {
        void accept(long createdAt, String id);
    }

    /**
     * Streams the (created_at, id) of every stored, unexpired event matching {@code filter} in
     * ascending (created_at, id) order (the order NIP-77 reconciles in), without holding them in
     * memory; with the filter's {@code limit}, only the newest that many. Stops after
     * {@code maxItems} and returns how many were passed on, so a caller that asks for one more than
     * it accepts learns that the filter covers too much without reading the rest.
     */
    int scanIdsAscending(Filter filter, long nowSeconds, int maxItems, IdConsumer consumer);

    /**
     * Walks every stored, unexpired event matching {@code filter} (its limit ignored) in query order,
     * newest first (created_at desc, id asc), until {@code consumer} returns false. It reads a page
     * of {@code pageSize} events at a time and resumes after the last (created_at, id) it passed on,
     * so memory stays at one page and no reader holds a connection or snapshot between pages
     * (events written meanwhile below the cursor are seen, those above it are not). Returns how
     * many events were passed on.
     */
    default long stream(Filter filter, long nowSeconds, int pageSize, java.util.function.Predicate<StoredEvent> consumer) {
        if (filter.matchesNothing() || pageSize <= 0) return 0;
        Long until = filter.until();
        String lastId = null;
        // Events already passed on at created_at == until: the next page must read past them.
        int passedAtUntil = 0;
        long passed = 0;
        while (true) {
            Filter page = new Filter(filter.ids(), filter.authors(), filter.kinds(), filter.tags(), filter.since(), until, null);
            if (page.matchesNothing()) return passed;
            int limit = passedAtUntil + pageSize;
            List<StoredEvent> rows = query(page, limit, nowSeconds);
            int newInPage = 0;
            for (StoredEvent e : rows) {
                boolean seen = lastId != null && e.createdAt() == until && e.id().compareTo(lastId) <= 0;
                if (seen) continue;
                newInPage++;
                if (!consumer.test(e)) return passed + 1;
                passed++;
                if (until != null && e.createdAt() == until) {
                    passedAtUntil++;
                } else {
                    until = e.createdAt();
                    passedAtUntil = 1;
                }
                lastId = e.id();
            }
            if (rows.size() < limit) return passed;
            // Only events already passed on (or written meanwhile at the cursor's created_at): read further next time.
            if (newInPage == 0) passedAtUntil = rows.size();
        }
    }

    /** Whether an event with this id is stored (expired or not). */
    boolean contains(String id);

    /** Physically removes up to {@code batch} expired events; returns how many were removed. */
    int deleteExpired(long nowSeconds, int batch);

    /** Told by the writer after each committed transaction: how many writes it held and how long it took. */
    @FunctionalInterface
    interface WriteObserver {
        void batchCommitted(int writes, long nanos);
    }

    /** Lets metrics watch the writer's batches; a backend without a batching writer ignores it. */
    default void observeWrites(WriteObserver observer) {
    }

    /** Writes (and sweeps) waiting for the writer now; 0 when the backend does not queue. */
    default int queuedWrites() {
        return 0;
    }

    /** The store's size on disk in bytes, or -1 when the backend cannot tell. */
    default long sizeOnDiskBytes() {
        return -1;
    }

    /** Every stored moderation row ({@link Moderation}), loaded by the relay at start. */
    default List<Moderation.Entry> moderation() {
        return List.of();
    }

    /**
     * Records a moderation change durably; the future completes after the commit. Adding a
     * {@link Moderation#BANNED_EVENT} also deletes that event, and writes of it are refused from then on.
     */
    default CompletableFuture<Void> moderate(Moderation.Change change, Moderation.Entry entry) {
        return CompletableFuture.failedFuture(new UnsupportedOperationException("this store does not keep moderation state"));
    }

    @Override
    void close();
}
