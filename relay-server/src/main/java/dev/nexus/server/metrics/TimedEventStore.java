package dev.nexus.server.metrics;

import dev.nexus.core.Event;
import dev.nexus.core.Filter;
import dev.nexus.storage.EventStore;
import dev.nexus.storage.StoredEvent;
import dev.nexus.storage.WriteResult;
import io.micrometer.core.instrument.Timer;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;

/**
 * The store with its writes timed from hand-over to commit and its queries timed on the query
 * worker; everything else passes straight through.
 */
final class TimedEventStore implements EventStore {
    private final EventStore delegate;
    private final Timer writes;
    private final Timer queries;
    private final Timer counts;
    private final Timer scans;

    TimedEventStore(EventStore delegate, Timer writes, Function<String, Timer> queryTimer) {
        this.delegate = delegate;
        this.writes = writes;
        this.queries = queryTimer.apply("query");
        this.counts = queryTimer.apply("count");
        this.scans = queryTimer.apply("scan");
    }

    @Override
    public CompletableFuture<WriteResult> write(Event event) {
        long start = System.nanoTime();
        CompletableFuture<WriteResult> done = delegate.write(event);
        done.whenComplete((r, e) -> writes.record(System.nanoTime() - start, TimeUnit.NANOSECONDS));
        return done;
    }

    @Override
    public List<StoredEvent> query(Filter filter, int limit, long nowSeconds) {
        long start = System.nanoTime();
        try {
            return delegate.query(filter, limit, nowSeconds);
        } finally {
            queries.record(System.nanoTime() - start, TimeUnit.NANOSECONDS);
        }
    }

    @Override
    public long count(List<Filter> filters, long nowSeconds) {
        long start = System.nanoTime();
        try {
            return delegate.count(filters, nowSeconds);
        } finally {
            counts.record(System.nanoTime() - start, TimeUnit.NANOSECONDS);
        }
    }

    @Override
    public int scanIdsAscending(Filter filter, long nowSeconds, int maxItems, IdConsumer consumer) {
        long start = System.nanoTime();
        try {
            return delegate.scanIdsAscending(filter, nowSeconds, maxItems, consumer);
        } finally {
            scans.record(System.nanoTime() - start, TimeUnit.NANOSECONDS);
        }
    }

    @Override
    public boolean contains(String id) {
        return delegate.contains(id);
    }

    @Override
    public int deleteExpired(long nowSeconds, int batch) {
        return delegate.deleteExpired(nowSeconds, batch);
    }

    @Override
    public void observeWrites(WriteObserver observer) {
        delegate.observeWrites(observer);
    }

    @Override
    public int queuedWrites() {
        return delegate.queuedWrites();
    }

    @Override
    public long sizeOnDiskBytes() {
        return delegate.sizeOnDiskBytes();
    }

    /** The server closes the store it opened, not this view of it. */
    @Override
    public void close() {
    }
}
