package dev.nexus.storage.lmdb;

import dev.nexus.core.Event;
import dev.nexus.storage.EventStore;
import dev.nexus.storage.JobTrafficOvertakesABatchContract;
import dev.nexus.storage.RetentionPolicy;
import java.nio.file.Path;
import java.util.function.Consumer;

/** Job traffic first on the LMDB writer (a real store directory). */
class LmdbJobTrafficOvertakesABatchTest extends JobTrafficOvertakesABatchContract {
    @Override
    protected EventStore open(Path dir) {
        return new LmdbEventStore(dir.resolve("lmdb"), "normal", 256, RetentionPolicy.DEFAULT);
    }

    @Override
    protected void beforeStore(EventStore store, Consumer<Event> hook) {
        ((LmdbEventStore) store).beforeStore = hook;
    }

    @Override
    protected int ordinaryEventsAJobMayWaitFor() {
        return 6;
    }
}
