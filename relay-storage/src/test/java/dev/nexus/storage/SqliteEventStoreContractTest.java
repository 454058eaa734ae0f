package dev.nexus.storage;

import java.nio.file.Path;
import org.junit.jupiter.api.io.TempDir;

/** The storage contract on SQLite, a real database file in a temporary directory. */
class SqliteEventStoreContractTest extends EventStoreContract {
    @TempDir Path dir;

    @Override
    protected EventStore open(RetentionPolicy retention) {
        return new SqliteEventStore(dir.resolve("contract.db"), "normal", 2, 256, retention);
    }
}
