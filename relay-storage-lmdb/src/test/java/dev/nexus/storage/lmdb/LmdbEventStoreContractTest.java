package dev.nexus.storage.lmdb;

import dev.nexus.storage.EventStore;
import dev.nexus.storage.EventStoreContract;
import dev.nexus.storage.RetentionPolicy;
import java.nio.file.Path;
import org.junit.jupiter.api.io.TempDir;

/** The storage contract on LMDB, a real store directory in a temporary directory. */
class LmdbEventStoreContractTest extends EventStoreContract {
    @TempDir Path dir;

    @Override
    protected EventStore open(RetentionPolicy retention) {
        return new LmdbEventStore(dir.resolve("contract"), "normal", 256, retention);
    }
}
