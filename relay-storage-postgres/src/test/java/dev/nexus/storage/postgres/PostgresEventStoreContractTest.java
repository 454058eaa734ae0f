package dev.nexus.storage.postgres;

import dev.nexus.storage.EventStore;
import dev.nexus.storage.EventStoreContract;
import dev.nexus.storage.RetentionPolicy;

/** The storage contract on PostgreSQL: a fresh database of the embedded server per test. */
class PostgresEventStoreContractTest extends EventStoreContract {
    @Override
    protected EventStore open(RetentionPolicy retention) {
        return new PostgresEventStore(TestPostgres.freshDatabase(), 2, 256, retention);
    }
}
