package dev.nexus.server.metrics;

import dev.nexus.core.SignatureVerifier;
import dev.nexus.storage.EventStore;
import dev.nexus.storage.SqliteEventStore;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/** The costly steps others perform, timed from outside: signature checks, the writer's batches, stored queries. */
final class StoreMetrics {
    static final Duration[] LATENCY_BUCKETS = RelayMetrics.durations(0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01,
            0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10);

    private final MeterRegistry registry;
    private final Timer verifyTimer;
    private final Timer writeTimer;
    private final Timer writeBatchTimer;
    private final DistributionSummary writeBatchSize;
    private final Map<String, Timer> queryTimers = new ConcurrentHashMap<>();

    StoreMetrics(MeterRegistry registry) {
        this.registry = registry;
        verifyTimer = Timer.builder("nexus.verify").description("BIP-340 signature checks (EVENT and AUTH)")
                .serviceLevelObjectives(LATENCY_BUCKETS).register(registry);
        writeTimer = Timer.builder("nexus.write").description("From handing an event to the writer to its commit (queueing included)")
                .serviceLevelObjectives(LATENCY_BUCKETS).register(registry);
        writeBatchTimer = Timer.builder("nexus.write.batch").description("One writer transaction, first statement to commit")
                .serviceLevelObjectives(LATENCY_BUCKETS).register(registry);
        writeBatchSize = DistributionSummary.builder("nexus.write.batch.size").baseUnit("events")
                .description("Writes committed together in one transaction")
                .serviceLevelObjectives(1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 4096).register(registry);
    }

    SignatureVerifier timed(SignatureVerifier verifier) {
        return new TimedVerifier(verifier, verifyTimer);
    }

    EventStore timed(EventStore store) {
        store.observeWrites((size, nanos) -> {
            writeBatchSize.record(size);
            writeBatchTimer.record(nanos, TimeUnit.NANOSECONDS);
        });
        Gauge.builder("nexus.store.size", store, s -> {
            long bytes = s.sizeOnDiskBytes();
            return bytes < 0 ? Double.NaN : bytes;
        }).baseUnit("bytes").description("The store's size on disk (SQLite: database and WAL files; PostgreSQL: the database)").register(registry);
        if (store instanceof SqliteEventStore sqlite) walMeters(sqlite);
        return new TimedEventStore(store, writeTimer, this::queryTimer);
    }

    /** The WAL policy at work (docs/ARCHITECTURE.md): the log file, the part of it in use, and the resets at the bound. */
    private void walMeters(SqliteEventStore store) {
        Gauge.builder("nexus.sqlite.wal.file", store, SqliteEventStore::walBytes).baseUnit("bytes")
                .description("Size of the SQLite write-ahead log file ([storage] wal_max_bytes bounds it)").register(registry);
        Gauge.builder("nexus.sqlite.wal.in.use", store, s -> {
            long bytes = s.walBytesInUse();
            return bytes < 0 ? Double.NaN : bytes;
        }).baseUnit("bytes").description("Bytes of the write-ahead log holding frames since its last reset").register(registry);
        FunctionCounter.builder("nexus.sqlite.wal.resets", store, SqliteEventStore::walTruncations)
                .description("Checkpoints the writer ran at the bound that reset the log").register(registry);
        FunctionCounter.builder("nexus.sqlite.wal.resets.busy", store, SqliteEventStore::walTruncationsBusy)
                .description("Resets at the bound that readers on old frames kept from completing (retried)").register(registry);
    }

    private Timer queryTimer(String operation) {
        return queryTimers.computeIfAbsent(operation, op -> Timer.builder("nexus.query").tag("operation", op)
                .description("Stored queries on the query workers: one filter of a REQ (query), a COUNT (count), a NIP-77 id scan (scan)")
                .serviceLevelObjectives(LATENCY_BUCKETS).register(registry));
    }
}
