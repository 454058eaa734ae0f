package dev.nexus.server.cli;

import dev.nexus.storage.SqliteMaintenance;
import java.io.PrintStream;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

@Command(name = "compact", mixinStandardHelpOptions = true, versionProvider = AdminCli.VersionProvider.class,
        description = {"Checkpoint the WAL into the database and truncate it, then VACUUM (rebuild the file without free "
                + "pages). Stop the relay first: VACUUM holds the write lock for its whole run and needs free disk space "
                + "about the size of the database; a running relay makes the checkpoint fail (exit 1).",
                "Exit codes: 0 done, 1 failed, 2 usage or configuration error."})
final class CompactCommand implements Callable<Integer>, AdminCli.Streams {
    @Spec CommandSpec spec;
    @Mixin StoreOptions store;

    private PrintStream out;

    @Override
    public void use(PrintStream out, PrintStream err) {
        this.out = out;
    }

    @Override
    public Integer call() {
        try (SqliteMaintenance m = SqliteMaintenance.open(store.databasePath(spec), false)) {
            long before = m.bytesOnDisk();
            long start = System.nanoTime();
            m.compact();
            out.println("compacted " + StatsCommand.bytes(before) + " -> " + StatsCommand.bytes(m.bytesOnDisk())
                    + " in " + Progress.seconds(System.nanoTime() - start));
        }
        return AdminCli.OK;
    }
}
