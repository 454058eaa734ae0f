package dev.nexus.microbench;

import dev.nexus.core.Event;
import dev.nexus.core.testing.NostrKey;
import dev.nexus.storage.RetentionPolicy;
import dev.nexus.storage.SqliteEventStore;
import dev.nexus.storage.WriteResult;
import java.lang.management.ManagementFactory;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.lmdbjava.Dbi;
import org.lmdbjava.DbiFlags;
import org.lmdbjava.Env;
import org.lmdbjava.EnvFlags;
import org.lmdbjava.PutFlags;
import org.lmdbjava.Txn;

/**
 * What the storage engine costs per event, and whether another one would reach issue 16's W1 target.
 * W1 at ≤ 0.5× strfry leaves the writer ≈ 8-30 µs of CPU per event (the rest of the ingest path
 * measures ≈ 60 µs); this writes the same pre-signed marketplace mix through the relay's real SQLite
 * writer ({@link SqliteEventStore}, group commits of up to 256, synchronous=NORMAL) and through an
 * LMDB layout like strfry's (one B-tree per index, binary 32-byte keys, a commit per 256 events, no
 * fsync per commit: the same durability as SQLite's WAL with synchronous=NORMAL) and prints the
 * process CPU per event for each chunk as the store grows. The LMDB side is a floor, not a store:
 * it keeps the indexes and the duplicate and tombstone lookups, not the replaceable/addressable
 * rules, expiry or deletion handling.
 *
 * <pre>java --add-opens java.base/java.nio=ALL-UNNAMED --add-opens java.base/sun.nio.ch=ALL-UNNAMED \
 *     -cp relay-microbench/target/microbench.jar dev.nexus.microbench.WriterFloor [events] [chunk]</pre>
 * (lmdbjava reads the direct buffers' addresses by reflection). {@code -Dbatch=N} sets both sides'
 * events per commit (default 256, the relay's {@code write_batch_max}) to see what batching buys.
 * {@code -Dmix=store} writes the large-store workload's mix instead (1,000 authors; notes, job
 * requests, feedback and results tagged with the job's random id, handler announcements), whose
 * {@code #e}, {@code #i} and {@code #d} values land at random places in the tag index
 * ({@code -Dsequential=true} makes those values ascend instead, to tell the tag index's share of the
 * store's growth from the id index's);
 * {@code -Dnolmdb=true} skips the LMDB side; {@code -Dprofile.lib=... -Dprofile.chunks=1,10} profiles
 * chunks with async-profiler (see {@link #PROFILED_CHUNKS}).
 */
public final class WriterFloor {
    /** Events per commit on both sides; the relay's write_batch_max default unless -Dbatch says otherwise. */
    private static final int BATCH = Integer.getInteger("batch", 256);

    public static void main(String[] args) throws Exception {
        int events = args.length > 0 ? Integer.parseInt(args[0]) : 200_000;
        int chunk = args.length > 1 ? Integer.parseInt(args[1]) : 20_000;
        List<Event> load = "store".equals(System.getProperty("mix")) ? storeMix(events) : load(events);
        System.out.println("events " + events + ", chunks of " + chunk + "; CPU µs per event (process CPU time / events)");
        Path dir = Files.createTempDirectory("writer-floor");
        try {
            System.out.println("sqlite (the relay's writer): " + sqlite(dir.resolve("nexus.db"), load, chunk));
            boolean withLmdb = !Boolean.getBoolean("nolmdb");
            if (withLmdb) System.out.println("lmdb (floor, strfry-like layout): " + lmdb(dir.resolve("lmdb"), load, chunk));
            System.out.println("bytes on disk per event: sqlite " + size(dir.resolve("nexus.db")) / events + " (+ WAL " + size(dir.resolve("nexus.db-wal"))
                    / events + ")" + (withLmdb ? ", lmdb " + size(dir.resolve("lmdb").resolve("data.mdb")) / events : ""));
        } finally {
            try (var files = Files.walk(dir)) {
                files.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
    }

    /** The large-store workload's mix (bench STORE): 40% notes, 25% job requests, 15% feedback and 15% results on the latest job, 5% handler announcements. */
    private static List<Event> storeMix(int n) {
        List<NostrKey> keys = keys(1000);
        long now = System.currentTimeMillis() / 1000 - 6 * 3600;
        List<Event> out = new ArrayList<>(n);
        Event lastJob = null;
        boolean seq = Boolean.getBoolean("sequential");
        for (int i = 0; i < n; i++) {
            NostrKey k = keys.get((int) ((i * 7919L) % keys.size()));
            long createdAt = now + (long) i * 6 * 3600 / n;
            int r = i % 20;
            Event e;
            String ref = lastJob == null ? null : seq ? String.format("%064d", i / 20) : lastJob.id();
            if (r < 8) {
                e = k.sign(1, List.of(List.of("t", "topic" + (i % 100)), List.of("p", keys.get((i * 13) % 1000).pubkey())),
                        "note " + i + " " + Long.toString(System.nanoTime(), 36), createdAt);
            } else if (r < 13) {
                e = k.sign(5050, List.of(List.of("i", seq ? String.format("doc %09d", i) : "doc " + i, "text"), List.of("bid", "1000"), List.of("p", keys.get(i % 20).pubkey())),
                        "{\"prompt\":\"summarise document " + i + "\"}", createdAt);
            } else if (r < 16 && lastJob != null) {
                e = k.sign(7000, List.of(List.of("status", "processing"), List.of("e", ref), List.of("p", lastJob.pubkey())), "", createdAt);
            } else if (r < 19 && lastJob != null) {
                e = k.sign(6050, List.of(List.of("e", ref), List.of("p", lastJob.pubkey()), List.of("request", lastJob.json()),
                        List.of("amount", "1000")), "result " + i, createdAt);
            } else {
                e = k.sign(31990, List.of(List.of("d", seq ? String.format("h%09d", i) : "h" + i), List.of("k", String.valueOf(5000 + (i % 50))), List.of("k", "5050")),
                        "{\"name\":\"handler\"}", createdAt);
            }
            if (e.kind() == 5050) lastJob = e;
            out.add(e);
        }
        return out;
    }

    private static List<NostrKey> keys(int n) {
        List<NostrKey> keys = new ArrayList<>(n);
        for (int i = 0; i < n; i++) keys.add(NostrKey.generate());
        return keys;
    }

    /** The W1-like mix: half notes with a #t and a #p, half NIP-90 job requests with an input and a #p. */
    private static List<Event> load(int n) {
        List<NostrKey> keys = keys(200);
        long now = System.currentTimeMillis() / 1000 - n / 20 - 10;
        List<Event> out = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            NostrKey k = keys.get(i % keys.size());
            long createdAt = now + i / 20;
            String p = keys.get((i * 7 + 3) % keys.size()).pubkey();
            out.add(i % 2 == 0
                    ? k.sign(1, List.of(List.of("t", "bench"), List.of("p", p)), "note " + i + " " + "x".repeat(100), createdAt)
                    : k.sign(5050, List.of(List.of("i", "job input " + i, "text"), List.of("p", p)), "", createdAt));
        }
        return out;
    }

    /** Writes events [from, to) of the load. */
    private interface ChunkWriter {
        void write(int from, int to) throws Exception;
    }

    /** The process CPU per event, in µs, of each chunk of the load as {@code writer} writes it. */
    private static String cpuPerEventByChunk(String side, int events, int chunk, ChunkWriter writer) throws Exception {
        StringBuilder out = new StringBuilder();
        for (int from = 0, n = 1; from < events; from += chunk, n++) {
            int to = Math.min(events, from + chunk);
            boolean profiled = PROFILED_CHUNKS.contains(n);
            if (profiled) profiler("start,event=cpu,interval=1ms,threads");
            long cpu = processCpuNanos();
            writer.write(from, to);
            out.append(String.format(" %.1f", (processCpuNanos() - cpu) / 1000.0 / (to - from)));
            if (profiled) {
                Path file = Path.of(System.getProperty("profile.dir", ".")).resolve(side + "-chunk-" + n + ".collapsed").toAbsolutePath();
                profiler("stop");
                profiler("dump,collapsed,file=" + file);
                System.out.println("profile of chunk " + n + " (events " + from + "-" + (to - 1) + "): " + file);
            }
        }
        return out.toString();
    }

    /**
     * {@code -Dprofile.lib=<libasyncProfiler.so> -Dprofile.chunks=1,10}: async-profiler's CPU samples
     * (every 1 ms, native frames included, per thread) of those chunks only, written as
     * {@code sqlite-chunk-N.collapsed} (or lmdb-) into {@code -Dprofile.dir} (default the working directory), so the
     * first and the last 100,000 events of a large store can be compared frame by frame. The agent
     * is loaded into this JVM by the JDK's own jcmd, as bench/profile.sh does for the relay.
     */
    private static final java.util.Set<Integer> PROFILED_CHUNKS = System.getProperty("profile.lib") == null ? java.util.Set.of()
            : java.util.Arrays.stream(System.getProperty("profile.chunks", "1").split(",")).map(String::trim).map(Integer::valueOf)
                    .collect(java.util.stream.Collectors.toUnmodifiableSet());

    private static void profiler(String command) throws Exception {
        Path java = Path.of(ProcessHandle.current().info().command().orElseThrow());
        Process jcmd = new ProcessBuilder(java.resolveSibling("jcmd").toString(), String.valueOf(ProcessHandle.current().pid()),
                "JVMTI.agent_load", Path.of(System.getProperty("profile.lib")).toAbsolutePath().toString(), "\"" + command + "\"")
                .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        if (jcmd.waitFor() != 0) throw new IllegalStateException("jcmd could not run the profiler's " + command);
    }

    private static String sqlite(Path file, List<Event> load, int chunk) throws Exception {
        try (SqliteEventStore store = new SqliteEventStore(file, "normal", 2, BATCH, RetentionPolicy.DEFAULT)) {
            return cpuPerEventByChunk("sqlite", load.size(), chunk, (from, to) -> {
                // Handed over a batch's worth at a time, as ingest does under load, so the writer forms full batches.
                List<CompletableFuture<WriteResult>> pending = new ArrayList<>(BATCH * 4);
                for (int i = from; i < to; i++) {
                    pending.add(store.write(load.get(i)));
                    if (pending.size() == BATCH * 4) {
                        pending.forEach(CompletableFuture::join);
                        pending.clear();
                    }
                }
                pending.forEach(CompletableFuture::join);
            });
        }
    }

    private static String lmdb(Path dir, List<Event> load, int chunk) throws Exception {
        Files.createDirectories(dir);
        try (Env<ByteBuffer> env = Env.create().setMapSize(8L << 30).setMaxDbs(8)
                .open(dir.toFile(), EnvFlags.MDB_NOSYNC, EnvFlags.MDB_NOMETASYNC)) {
            Dbi<ByteBuffer> events = env.openDbi("events", DbiFlags.MDB_CREATE, DbiFlags.MDB_INTEGERKEY);
            Dbi<ByteBuffer> ids = env.openDbi("id", DbiFlags.MDB_CREATE);
            Dbi<ByteBuffer> created = env.openDbi("created", DbiFlags.MDB_CREATE);
            Dbi<ByteBuffer> kinds = env.openDbi("kind", DbiFlags.MDB_CREATE);
            Dbi<ByteBuffer> authors = env.openDbi("pubkey", DbiFlags.MDB_CREATE);
            Dbi<ByteBuffer> tags = env.openDbi("tag", DbiFlags.MDB_CREATE);
            Dbi<ByteBuffer> deleted = env.openDbi("deleted", DbiFlags.MDB_CREATE);
            ByteBuffer key = ByteBuffer.allocateDirect(511);
            ByteBuffer val = ByteBuffer.allocateDirect(64 * 1024);
            ByteBuffer empty = ByteBuffer.allocateDirect(0);
            HexFormat hex = HexFormat.of();
            return cpuPerEventByChunk("lmdb", load.size(), chunk, (from, to) -> {
                for (int b = from; b < to; b += BATCH) {
                    try (Txn<ByteBuffer> txn = env.txnWrite()) {
                        for (int i = b; i < Math.min(to, b + BATCH); i++) {
                            Event e = load.get(i);
                            byte[] id = hex.parseHex(e.id());
                            byte[] pubkey = hex.parseHex(e.pubkey());
                            key.clear().put(id).flip();
                            if (deleted.get(txn, key) != null) continue;
                            long s = i + 1L; // its place in the load: increasing, as MDB_APPEND needs
                            val.clear().putLong(s).flip();
                            if (!ids.put(txn, key, val, PutFlags.MDB_NOOVERWRITE)) continue; // a duplicate
                            key.clear().order(java.nio.ByteOrder.nativeOrder()).putLong(s).flip();
                            key.order(java.nio.ByteOrder.BIG_ENDIAN);
                            val.clear().put(e.jsonUtf8()).flip();
                            events.put(txn, key, val, PutFlags.MDB_APPEND);
                            key.clear().putLong(e.createdAt()).putLong(s).flip();
                            created.put(txn, key, empty);
                            key.clear().putInt(e.kind()).putLong(e.createdAt()).putLong(s).flip();
                            kinds.put(txn, key, empty);
                            key.clear().put(pubkey).putLong(e.createdAt()).putLong(s).flip();
                            authors.put(txn, key, empty);
                            for (List<String> tag : e.tags()) {
                                if (tag.size() < 2 || tag.get(0).length() != 1) continue;
                                String v = tag.get(1);
                                byte[] value = v.length() == 64 && v.chars().allMatch(c -> Character.digit(c, 16) >= 0)
                                        ? hex.parseHex(v) : v.getBytes(StandardCharsets.UTF_8);
                                if (value.length > 400) continue;
                                key.clear().put((byte) tag.get(0).charAt(0)).put(value).putInt(e.kind()).putLong(e.createdAt()).putLong(s).flip();
                                tags.put(txn, key, empty);
                            }
                        }
                        txn.commit();
                    }
                }
            });
        }
    }

    private static long processCpuNanos() {
        return ((com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean()).getProcessCpuTime();
    }

    private static long size(Path file) {
        try {
            return Files.exists(file) ? Files.size(file) : 0;
        } catch (java.io.IOException e) {
            return 0;
        }
    }
}
