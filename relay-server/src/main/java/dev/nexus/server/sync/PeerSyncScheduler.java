package dev.nexus.server.sync;

import dev.nexus.config.NexusConfig;
import dev.nexus.core.Filter;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps the running relay in sync with its {@code [[sync.peers]]}: one thread, {@code nexus-sync},
 * runs each peer's rounds on that peer's interval (a round that runs late delays that peer's next,
 * never overlaps it), logging one line per round with what moved. A failed round is logged and
 * retried at the next interval.
 */
public final class PeerSyncScheduler implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(PeerSyncScheduler.class);

    /** Totals per peer name since start: events fetched and published, rounds run and failed. */
    public record PeerTotals(AtomicLong rounds, AtomicLong failedRounds, AtomicLong fetched, AtomicLong published) {
        PeerTotals() {
            this(new AtomicLong(), new AtomicLong(), new AtomicLong(), new AtomicLong());
        }
    }

    private final PeerSync sync;
    private final List<NexusConfig.SyncPeer> peers;
    private final ScheduledExecutorService thread;
    private final ConcurrentHashMap<String, PeerTotals> totals = new ConcurrentHashMap<>();

    public PeerSyncScheduler(PeerSync sync, List<NexusConfig.SyncPeer> peers) {
        this.sync = sync;
        this.peers = peers;
        this.thread = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "nexus-sync");
            t.setDaemon(true);
            return t;
        });
    }

    public PeerSyncScheduler start() {
        for (NexusConfig.SyncPeer peer : peers) {
            totals.put(peer.name(), new PeerTotals());
            // The first round runs soon after start, so that a restarted relay catches up at once.
            thread.scheduleWithFixedDelay(() -> round(peer), 1, peer.intervalSeconds(), TimeUnit.SECONDS);
        }
        log.info("syncing {} peer(s) over NIP-77: {}", peers.size(), peers.stream().map(p -> p.name() + " every " + p.intervalSeconds() + " s").toList());
        return this;
    }

    public PeerTotals totals(String peerName) {
        return totals.get(peerName);
    }

    private void round(NexusConfig.SyncPeer peer) {
        PeerTotals t = totals.get(peer.name());
        t.rounds().incrementAndGet();
        try {
            Filter filter = FilterJson.parse(peer.filterJson());
            if (peer.windowSeconds() > 0) filter = FilterJson.withTimes(filter, System.currentTimeMillis() / 1000 - peer.windowSeconds(), filter.until());
            SyncStats stats = sync.sync(peer.url(), filter, peer.direction());
            t.fetched().addAndGet(stats.fetched());
            t.published().addAndGet(stats.published());
            if (stats.hasFailures()) t.failedRounds().incrementAndGet();
            log.info("sync peer {}: moved {}; {}", peer.name(), stats.moved(), dev.nexus.server.LogSafe.line(stats.summary()));
        } catch (SyncException e) {
            t.failedRounds().incrementAndGet();
            log.warn("sync peer {} ({}) failed: {}", peer.name(), peer.url(), dev.nexus.server.LogSafe.line(e.getMessage())); // may quote the peer
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (RuntimeException e) {
            t.failedRounds().incrementAndGet();
            log.error("sync peer {} ({}) failed", peer.name(), peer.url(), e);
        }
    }

    @Override
    public void close() {
        thread.shutdownNow();
        try {
            thread.awaitTermination(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
