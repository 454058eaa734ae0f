package dev.nexus.server;

import dev.nexus.storage.EventStore;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Physically removes expired events (NIP-40 tags and the marketplace retention) in small
 * batches, each its own short transaction on the writer, so the sweep never stalls ingest.
 * Expired events stop being served the moment they expire; this only reclaims the space.
 */
final class ExpirySweeper implements Runnable {
    private static final Logger log = LoggerFactory.getLogger(ExpirySweeper.class);
    /** Upper bound on batches per run, so one run cannot monopolise the writer. */
    private static final int MAX_BATCHES_PER_RUN = 100;

    private final EventStore store;
    private final int batch;
    private final RateLimiter limiter;

    ExpirySweeper(EventStore store, int batch, RateLimiter limiter) {
        this.store = store;
        this.batch = batch;
        this.limiter = limiter;
    }

    @Override
    public void run() {
        try {
            long now = MessageDispatcher.now();
            int total = 0;
            for (int i = 0; i < MAX_BATCHES_PER_RUN; i++) {
                int n = store.deleteExpired(now, batch);
                total += n;
                if (n < batch) break;
            }
            if (total > 0) log.info("expiry sweep removed {} expired events", total);
            limiter.evictIdle();
        } catch (RuntimeException e) {
            log.warn("expiry sweep failed: {}", e.toString());
        }
    }
}
