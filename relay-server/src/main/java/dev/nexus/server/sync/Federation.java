package dev.nexus.server.sync;

import dev.nexus.config.NexusConfig;
import dev.nexus.core.Event;
import dev.nexus.core.SignatureVerifier;
import dev.nexus.server.metrics.RelayMetrics;
import dev.nexus.storage.EventStore;
import java.util.function.Consumer;

/** Starts the {@code [[sync.peers]]} rounds of a relay and exposes their totals as metrics. */
public final class Federation {
    private Federation() {}

    /**
     * Events fetched from peers are stored by the sync and then reach this relay's live subscribers
     * through {@code toSubscribers}, as another writer's commits do.
     */
    public static PeerSyncScheduler start(NexusConfig config, EventStore store, SignatureVerifier verifier, Consumer<Event> toSubscribers,
                                          RelayMetrics metrics) {
        EventSigner signer = EventSigner.fromEnvironmentOrFile(System.getenv(EventSigner.ENVIRONMENT_VARIABLE), config.sync().secretKeyFile());
        PeerSyncScheduler peerSync = new PeerSyncScheduler(new PeerSync(store, verifier, config, signer, toSubscribers, 30_000),
                config.sync().peers()).start();
        for (NexusConfig.SyncPeer peer : config.sync().peers()) {
            PeerSyncScheduler.PeerTotals t = peerSync.totals(peer.name());
            metrics.counterOf("nexus.sync.events", "Events moved by [[sync.peers]] rounds, by peer and direction", t.fetched()::get,
                    "peer", peer.name(), "direction", "fetched");
            metrics.counterOf("nexus.sync.events", "Events moved by [[sync.peers]] rounds, by peer and direction", t.published()::get,
                    "peer", peer.name(), "direction", "published");
            metrics.counterOf("nexus.sync.rounds", "[[sync.peers]] rounds run, by peer", t.rounds()::get, "peer", peer.name());
            metrics.counterOf("nexus.sync.rounds.failed", "[[sync.peers]] rounds that failed, by peer", t.failedRounds()::get, "peer", peer.name());
        }
        return peerSync;
    }
}
