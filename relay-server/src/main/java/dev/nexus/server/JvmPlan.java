package dev.nexus.server;

import java.io.File;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** The relay JVM's options for a machine (heap, collector, compiler tiers, class-data archive); {@link Launcher} applies them. */
final class JvmPlan {
    /** The heap never grows past this, whatever the machine: the relay's working set is small (issue 9). */
    static final long MAX_HEAP_CAP_MIB = 1024;
    /** ... and never past this share of the memory the JVM sees (container limits included). */
    static final int MAX_HEAP_RAM_DIVISOR = 4;
    static final long MIN_HEAP_MIB = 128;
    /** Machines with this many cores or fewer run C1 only (docs/PERFORMANCE.md: C2 compiles compete with the relay). */
    static final int C1_ONLY_MAX_CORES = 4;
    /**
     * How often the JVM hands freed native memory back to the OS (malloc_trim): SQLite's page caches
     * are malloc'ed, and what an idle writer gives back (PRAGMA shrink_memory) would otherwise stay in
     * the process (issue 16, W4: about 35 MiB after a burst of writes). A trim with nothing to free
     * costs microseconds; A/B over W1-W4 showed no CPU or latency change at 1 s or 5 s.
     */
    static final int NATIVE_TRIM_INTERVAL_MILLIS = 2000;
    /**
     * Netty's pooled buffers come in chunks of 8 KiB << maxOrder; each event loop's arena keeps at
     * least one once it has written anything. 1 MiB chunks (order 7) instead of Netty's 4 MiB (order
     * 9): a fresh relay held 11-12 MiB less (178 → 166 MiB, launcher included) and the relay with
     * 5,000 idle connections 8 MiB less, W1/W2 CPU unchanged within the noise (issue 16, two pairs).
     * The relay's buffers are far smaller than a chunk (outbound stored batches at most 32 KiB);
     * anything larger than 1 MiB is allocated outside the pool.
     */
    static final int NETTY_CHUNK_ORDER = 7;

    /** What lmdbjava needs opened to it (the LMDB backend); harmless when another backend is used. */
    static final List<String> LMDB_OPENS = List.of("--add-opens", "java.base/java.nio=ALL-UNNAMED", "--add-opens", "java.base/sun.nio.ch=ALL-UNNAMED");

    private JvmPlan() {}

    /** The relay's JVM options for this machine, followed by whatever the operator passed. */
    static Plan plan(Machine m, List<String> operatorArgs) {
        List<String> opts = new ArrayList<>();
        List<String> why = new ArrayList<>();
        long heapMiB = Math.max(MIN_HEAP_MIB, Math.min(MAX_HEAP_CAP_MIB, m.memoryMiB() / MAX_HEAP_RAM_DIVISOR));
        // Options the operator sets themself replace ours rather than follow them: two collectors
        // are a JVM start error, and our -Xms could exceed their -Xmx.
        boolean ownHeap = operatorArgs.stream().anyMatch(a -> a.startsWith("-Xmx") || a.startsWith("-Xms")
                || a.startsWith("-XX:MaxRAMPercentage") || a.startsWith("-XX:MaxHeapSize") || a.startsWith("-XX:InitialHeapSize"));
        boolean ownGc = operatorArgs.stream().anyMatch(a -> a.matches("-XX:[+]Use\\w*GC"));
        if (!ownHeap) {
            opts.add("-Xmx" + heapMiB + "m");
            // A small starting heap keeps an idle relay small (issue 16, W4); it grows under load.
            opts.add("-Xms64m");
        }
        if (!ownGc) {
            // Serial GC: no concurrent GC threads competing for the cores the relay needs, the
            // cheapest write barrier, and short young pauses on a heap this size.
            opts.add("-XX:+UseSerialGC");
            // Survivor spaces of a fifth of the young generation instead of a tenth: under a flood the
            // events in flight outgrew them and were promoted early, and a 45 ms full collection came
            // every few seconds (JOBS, 2026-12-06: job p99 under the flood 41.6 / 44.7 -> 36.6 / 34.4 ms,
            // no full collection; W1-W4 unchanged). Only with our collector: G1 sizes its own.
            opts.add("-XX:SurvivorRatio=3");
        }
        if (m.cores() <= C1_ONLY_MAX_CORES) {
            opts.add("-XX:TieredStopAtLevel=1");
            why.add("C1 only on " + m.cores() + " cores");
        }
        if (m.nativeHeapTrim()) {
            opts.add("-XX:TrimNativeHeapInterval=" + NATIVE_TRIM_INTERVAL_MILLIS);
        }
        if (operatorArgs.stream().noneMatch(a -> a.startsWith("-Dio.netty.allocator.maxOrder="))) {
            opts.add("-Dio.netty.allocator.maxOrder=" + NETTY_CHUNK_ORDER);
        }
        // The LMDB backend's binding (lmdbjava) reads direct buffers' addresses by reflection.
        opts.addAll(LMDB_OPENS);
        // Newer JDKs warn, in several lines each, when a library loads native code (libsecp256k1,
        // Netty's epoll, SQLite, LMDB) or uses sun.misc.Unsafe's memory access (Netty, jffi) without
        // being allowed to: allow what the relay's libraries do, so that its log starts clean.
        if (m.javaFeature() >= 22) opts.add("--enable-native-access=ALL-UNNAMED");
        if (m.javaFeature() >= 24) opts.add("--sun-misc-unsafe-memory-access=allow");
        // After an OutOfMemoryError a relay is in an unknown state: exit and let the supervisor restart it.
        opts.add("-XX:+ExitOnOutOfMemoryError");
        // No hsperfdata: its sampler wakes the JVM twenty times a second, 1.2-1.5 ms of CPU a second on an
        // idle relay, more than all its other threads together (issue 16). jps and jstat no longer list the
        // relay; jcmd <pid>, JFR and /metrics work as before. -XX:+UsePerfData on the operator's java command line
        // comes later and wins (JAVA_TOOL_OPTIONS is read before the command line, so there it does not).
        opts.add("-XX:-UsePerfData");
        if (usesArchive(m)) {
            opts.add("-XX:+AutoCreateSharedArchive");
            opts.add("-XX:SharedArchiveFile=" + m.cdsArchive());
            // The JDK logs the archive's housekeeping as errors and warnings on stdout: at every start
            // on JDK 25 that the module options (--add-opens above) differ from the dump's (the archive
            // is still used, 2,862 classes from it), and at the dump the classes it skips. The archive
            // only speeds the start; the operator's own -Xlog comes later and wins.
            opts.add("-Xlog:cds=off,cds+dynamic=off");
            why.add("class-data archive " + m.cdsArchive());
        }
        opts.addAll(operatorArgs);
        String summary = String.join(" ", opts) + " (" + (ownHeap ? "operator's heap" : "heap " + heapMiB + " MiB of " + m.memoryMiB() + " MiB RAM")
                + (why.isEmpty() ? "" : "; " + String.join("; ", why))
                + (operatorArgs.isEmpty() ? "" : "; operator's own options last") + ")";
        return new Plan(List.copyOf(opts), summary);
    }

    /** Whether the plan makes the relay JVM use (and on its first run create) {@code m}'s archive. */
    static boolean usesArchive(Machine m) {
        return m.javaFeature() >= 19 && m.cdsArchive() != null;
    }

    /**
     * Called by the launcher when the relay JVM is about to create a new archive, which means a new
     * jar or JDK: the archives of the old ones (20-30 MiB each) would otherwise pile up in the cache
     * with every upgrade. Another relay of the same user on another version loses its archive and
     * makes a new one at its next stop; nothing but {@code nexus-*.jsa} files is touched.
     */
    static void removeOtherArchives(Path dir, Path keep) {
        try (var entries = Files.newDirectoryStream(dir, "nexus-*.jsa")) {
            for (Path p : entries) {
                if (!p.equals(keep) && Files.isRegularFile(p, java.nio.file.LinkOption.NOFOLLOW_LINKS)) Files.deleteIfExists(p);
            }
        } catch (IOException | RuntimeException e) {
            // a cache: what cannot be removed now is removed at the next upgrade
        }
    }

    record Plan(List<String> jvmOptions, String summary) {}

    /** What the launcher looks at to choose the options. */
    record Machine(int cores, long memoryMiB, int javaFeature, Path cdsArchive, boolean nativeHeapTrim) {
        static Machine current() {
            long bytes = Runtime.getRuntime().maxMemory() * 4; // fallback: default max heap is 1/4 of RAM
            if (ManagementFactory.getOperatingSystemMXBean() instanceof com.sun.management.OperatingSystemMXBean os) {
                bytes = os.getTotalMemorySize(); // container-aware since JDK 14
            }
            return new Machine(Runtime.getRuntime().availableProcessors(), bytes / (1024 * 1024),
                    Runtime.version().feature(), cdsArchivePath(), knowsOption("TrimNativeHeapInterval"));
        }

        /** Whether this JVM (the same binary the relay JVM runs on) has the option; TrimNativeHeapInterval came with 17.0.9/21.0.1/22. */
        static boolean knowsOption(String name) {
            try {
                ManagementFactory.getPlatformMXBean(com.sun.management.HotSpotDiagnosticMXBean.class).getVMOption(name);
                return true;
            } catch (RuntimeException unknownOrNotHotSpot) {
                return false;
            }
        }
    }

    /**
     * Where the JDK 19+ auto-created class-data archive lives: in the user's own cache directory
     * (never a shared temp directory, where another user could plant one), keyed by the jar and the
     * JDK so that an upgrade of either starts a fresh archive. Null when there is no such place.
     */
    static Path cdsArchivePath() {
        try {
            String cp = System.getProperty("java.class.path", "");
            if (cp.isEmpty() || cp.contains(File.pathSeparator)) return null; // only for the single jar
            Path jar = Path.of(cp).toAbsolutePath();
            if (!Files.isRegularFile(jar)) return null;
            Path dir = Path.of(System.getProperty("user.home"), ".cache", "nexus");
            Files.createDirectories(dir);
            if (!Files.isWritable(dir)) return null;
            String key = Integer.toHexString((jar + "|" + Files.size(jar) + "|" + Files.getLastModifiedTime(jar).toMillis()
                    + "|" + System.getProperty("java.home") + "|" + Runtime.version()).hashCode());
            return dir.resolve("nexus-" + key + ".jsa");
        } catch (IOException | RuntimeException e) {
            return null;
        }
    }
}
