package dev.nexus.server.cli;

import dev.nexus.storage.SqliteMaintenance;
import java.io.PrintStream;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

@Command(name = "stats", mixinStandardHelpOptions = true, versionProvider = AdminCli.VersionProvider.class, sortOptions = false,
        description = {"Counts by kind class, size on disk, oldest and newest event, what expires soon. Safe while the "
                + "relay runs (read-only).",
                "Exit codes: 0 done, 1 failed, 2 usage or configuration error."})
final class StatsCommand implements Callable<Integer>, AdminCli.Streams {
    @Spec CommandSpec spec;
    @Mixin StoreOptions store;

    @Option(names = "--soon", paramLabel = "SECONDS", defaultValue = "3600", description = "the window for 'expiring soon' (default: ${DEFAULT-VALUE})")
    long soonSeconds;

    private PrintStream out;

    @Override
    public void use(PrintStream out, PrintStream err) {
        this.out = out;
    }

    @Override
    public Integer call() {
        Path db = store.databasePath(spec);
        long now = System.currentTimeMillis() / 1000;
        SqliteMaintenance.Stats s;
        try (SqliteMaintenance m = SqliteMaintenance.open(db, true)) {
            s = m.stats(now, soonSeconds);
        }
        out.println("database: " + db.toAbsolutePath() + " (" + bytes(s.bytesOnDisk()) + " on disk with WAL)");
        out.println("events: " + s.total());
        for (Map.Entry<String, Long> e : s.countsByKindClass().entrySet()) {
            out.printf("  %-14s %d%n", e.getKey() + ":", e.getValue());
        }
        out.println("oldest: " + time(s.oldestCreatedAt()));
        out.println("newest: " + time(s.newestCreatedAt()));
        out.println("expiring within " + soonSeconds + " s: " + s.expiringSoon());
        out.println("expired, awaiting the sweep: " + s.expiredAwaitingSweep());
        out.println("deletion tombstones: " + s.tombstones());
        return AdminCli.OK;
    }

    private static String time(Long createdAt) {
        return createdAt == null ? "-" : Instant.ofEpochSecond(createdAt) + " (" + createdAt + ")";
    }

    static String bytes(long n) {
        if (n < 1024) return n + " B";
        if (n < 1024 * 1024) return String.format("%.1f KiB", n / 1024.0);
        if (n < 1024L * 1024 * 1024) return String.format("%.1f MiB", n / (1024.0 * 1024));
        return String.format("%.2f GiB", n / (1024.0 * 1024 * 1024));
    }
}
