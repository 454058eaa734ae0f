package dev.nexus.storage;

import dev.nexus.core.Event;
import java.nio.file.Path;
import java.util.function.Consumer;

/** Job traffic first on SQLite's writer (a real database file). */
class JobTrafficOvertakesABatchTest extends JobTrafficOvertakesABatchContract {
    @Override
    protected EventStore open(Path dir) {
        return new SqliteEventStore(dir.resolve("nexus.db"), "normal", 1, 256, RetentionPolicy.DEFAULT);
    }

    @Override
    protected void beforeStore(EventStore store, Consumer<Event> hook) {
        ((SqliteEventStore) store).beforeStore = hook;
    }

    @Override
    protected int ordinaryEventsAJobMayWaitFor() {
        return 0; // the job joins the open transaction, which commits before the next ordinary event
    }
}
