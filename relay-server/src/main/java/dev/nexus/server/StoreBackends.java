package dev.nexus.server;

import dev.nexus.config.NexusConfig;
import dev.nexus.storage.EventStore;
import dev.nexus.storage.LiveFeed;
import dev.nexus.storage.LocalLiveFeed;
import dev.nexus.storage.RetentionPolicy;
import dev.nexus.storage.SqliteEventStore;
import dev.nexus.storage.lmdb.LmdbEventStore;
import dev.nexus.storage.postgres.PostgresEventStore;
import dev.nexus.storage.postgres.PostgresLiveFeed;
import dev.nexus.storage.postgres.PostgresLocation;
import java.nio.file.Path;

/** The store and live feed {@code [storage] backend} names, unless the embedder gave a store of its own. */
final class StoreBackends {
    /** Committed events fan-out may fall behind by before the writer waits for it. */
    private static final int LIVE_FEED_CAPACITY = 65_536;

    record Opened(EventStore store, LiveFeed feed) {}

    private StoreBackends() {}

    static Opened open(NexusConfig config, EventStore givenStore, LiveFeed givenFeed) {
        NexusConfig.Storage st = config.storage();
        NexusConfig.Retention ret = config.retention();
        RetentionPolicy retention = new RetentionPolicy(config.marketplace().kinds(), ret.jobRequestSeconds(), ret.jobResultSeconds(), ret.jobFeedbackSeconds());
        if (givenStore != null) {
            return new Opened(givenStore, givenFeed != null ? givenFeed : new LocalLiveFeed(LIVE_FEED_CAPACITY));
        } else if (st.backend() == NexusConfig.Backend.POSTGRES) {
            // Several nodes share the database; every node's live subscribers hear every node's commits through the feed.
            PostgresEventStore pg = new PostgresEventStore(PostgresLocation.parse(st.postgresUrl()), st.readerPoolSize(),
                    st.writeBatchMax(), retention, st.postgresConnectTimeoutMs());
            return new Opened(pg, new PostgresLiveFeed(pg, "nexus-feed"));
        } else if (st.backend() == NexusConfig.Backend.LMDB) {
            EventStore lmdb = new LmdbEventStore(Path.of(st.path()), st.synchronous(), st.writeBatchMax(), retention, st.lmdbMapBytes(),
                    config.limits().maxQueryMillis());
            return new Opened(lmdb, new LocalLiveFeed(LIVE_FEED_CAPACITY));
        } else {
            EventStore sqlite = new SqliteEventStore(Path.of(st.path()), st.synchronous(), st.readerPoolSize(), st.writeBatchMax(), retention,
                    st.walMaxBytes(), config.limits().maxQueryMillis());
            return new Opened(sqlite, new LocalLiveFeed(LIVE_FEED_CAPACITY));
        }
    }
}
