package dev.nexus.storage.postgres;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.nexus.core.Event;
import dev.nexus.core.testing.NostrKey;
import dev.nexus.storage.LiveFeed.LiveEvent;
import dev.nexus.storage.RetentionPolicy;
import dev.nexus.storage.WriteResult;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.nio.file.Path;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A PostgreSQL of its own that the test stops and starts again under a running store. */
class PostgresOutageTest {
    @TempDir Path dataDir;

    private EmbeddedPostgres start(int port) throws Exception {
        EmbeddedPostgres.Builder b = EmbeddedPostgres.builder().setDataDirectory(dataDir).setCleanDataDirectory(false);
        if (port > 0) b.setPort(port);
        return b.start();
    }

    @Test
    void whileTheDatabaseIsDownWritesAreAnsweredWithAnErrorAndWhenItIsBackEverythingResumes() throws Exception {
        EmbeddedPostgres pg = start(0);
        int port = pg.getPort();
        String url = "postgresql://127.0.0.1:" + port + "/postgres?user=postgres";
        NostrKey k = NostrKey.generate();
        LinkedBlockingQueue<LiveEvent> live = new LinkedBlockingQueue<>();
        try (PostgresEventStore store = new PostgresEventStore(PostgresLocation.parse(url), 2, 64, RetentionPolicy.DEFAULT, 2000);
             PostgresLiveFeed feed = new PostgresLiveFeed(store, "feed-outage")) {
            feed.start(live::add);
            Event before = k.sign(1, "before the outage");
            assertTrue(store.write(before).get(30, TimeUnit.SECONDS).accepted());
            assertEquals(before.id(), live.poll(30, TimeUnit.SECONDS).event().id());

            pg.close();
            // Not a hang: the answer comes within the connection timeout (the bound here is generous for a loaded machine).
            WriteResult during = store.write(k.sign(1, "during the outage")).get(60, TimeUnit.SECONDS);
            assertFalse(during.accepted());
            assertTrue(during.message().startsWith("error:"), during.message());

            pg = start(port);
            Event after = k.sign(1, "after the outage");
            WriteResult r = null;
            for (int attempt = 0; attempt < 30 && (r == null || !r.accepted()); attempt++) {
                r = store.write(after).get(60, TimeUnit.SECONDS);
                if (!r.accepted()) Thread.sleep(500);
            }
            assertTrue(r.accepted(), r.message());
            assertTrue(store.contains(after.id()));
            LiveEvent delivered = live.poll(60, TimeUnit.SECONDS);
            assertEquals(after.id(), delivered == null ? null : delivered.event().id(), "the feed reconnected and delivered the new commit");
        } finally {
            pg.close();
        }
    }
}
