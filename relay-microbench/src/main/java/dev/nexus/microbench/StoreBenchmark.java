package dev.nexus.microbench;

import dev.nexus.core.ClientMessage;
import dev.nexus.core.ClientMessageParser;
import dev.nexus.core.Event;
import dev.nexus.core.Filter;
import dev.nexus.core.ProtocolLimits;
import dev.nexus.core.testing.NostrKey;
import dev.nexus.storage.RetentionPolicy;
import dev.nexus.storage.SqliteEventStore;
import dev.nexus.storage.WriteResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/** The SQLite store: a group-committed batch of inserts, and the four W3 query shapes on 20k events. */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class StoreBenchmark {
    private static final int BATCH = 200;
    private Path dir;
    private SqliteEventStore store;
    private final List<NostrKey> keys = new ArrayList<>();
    private final List<String> ids = new ArrayList<>();
    private Filter byAuthor, jobsForProvider, byId, kindSince;
    private List<Event> nextBatch;
    private long now;

    @Setup(Level.Trial)
    public void setUp() throws Exception {
        dir = Files.createTempDirectory("nexus-bench");
        store = new SqliteEventStore(dir.resolve("nexus.db"), "normal", 4, 1024, RetentionPolicy.DEFAULT);
        for (int i = 0; i < 200; i++) keys.add(NostrKey.generate());
        now = System.currentTimeMillis() / 1000;
        List<CompletableFuture<WriteResult>> pending = new ArrayList<>();
        for (int i = 0; i < 20000; i++) {
            Event e = event(i);
            ids.add(e.id());
            pending.add(store.write(e));
        }
        pending.forEach(CompletableFuture::join);
        ClientMessageParser p = new ClientMessageParser(ProtocolLimits.DEFAULT);
        byAuthor = filter(p, "{\"authors\":[\"" + keys.get(17).pubkey() + "\"],\"limit\":50}");
        jobsForProvider = filter(p, "{\"kinds\":[5050],\"#p\":[\"" + keys.get(3).pubkey() + "\"],\"limit\":20}");
        byId = filter(p, "{\"ids\":[\"" + ids.get(7919) + "\"]}");
        kindSince = filter(p, "{\"kinds\":[1],\"since\":" + (now - 500) + ",\"limit\":100}");
    }

    private Event event(int i) {
        NostrKey k = keys.get(i % keys.size());
        long createdAt = now - 1000 + i / 20;
        if (i % 10 < 5) return k.sign(1, List.of(List.of("t", "bench"), List.of("p", keys.get((i * 7 + 3) % 200).pubkey())), "note " + i + " " + System.nanoTime(), createdAt);
        return k.sign(5050, List.of(List.of("i", "job " + i, "text"), List.of("p", keys.get(i % 10).pubkey())), "", createdAt);
    }

    private static Filter filter(ClientMessageParser p, String json) throws Exception {
        return ((ClientMessage.Subscribe) p.parse("[\"REQ\",\"s\"," + json + "]")).filters().get(0);
    }

    @Setup(Level.Invocation)
    public void prepareBatch() {
        nextBatch = new ArrayList<>(BATCH);
        for (int i = 0; i < BATCH; i++) nextBatch.add(keys.get(i).sign(1, List.of(List.of("t", "x")), "batch " + System.nanoTime() + " " + i, now));
    }

    /** Time for 200 concurrent writes to be committed (one or a few group commits). */
    @Benchmark
    public void insertBatchOf200() {
        List<CompletableFuture<WriteResult>> pending = new ArrayList<>(BATCH);
        for (Event e : nextBatch) pending.add(store.write(e));
        pending.forEach(CompletableFuture::join);
    }

    @Benchmark
    public Object queryByAuthor() {
        return store.query(byAuthor, 50, now);
    }

    @Benchmark
    public Object queryJobsForProvider() {
        return store.query(jobsForProvider, 20, now);
    }

    @Benchmark
    public Object queryById() {
        return store.query(byId, 500, now);
    }

    @Benchmark
    public Object queryKindSince() {
        return store.query(kindSince, 100, now);
    }

    @TearDown(Level.Trial)
    public void tearDown() throws Exception {
        store.close();
        try (var files = Files.walk(dir)) {
            files.sorted(java.util.Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
        }
    }
}
