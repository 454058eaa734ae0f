package dev.nexus.storage;

/** The storage contract on the in-memory store. */
class InMemoryEventStoreContractTest extends EventStoreContract {
    @Override
    protected EventStore open(RetentionPolicy retention) {
        return new InMemoryEventStore(retention);
    }
}
