package dev.nexus.server.cli;

import dev.nexus.core.Filter;
import dev.nexus.storage.SqliteMaintenance;
import java.io.PrintStream;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

@Command(name = "delete", mixinStandardHelpOptions = true, versionProvider = AdminCli.VersionProvider.class, sortOptions = false,
        description = {"Remove the stored events matching a filter (with their tags) in one transaction. No tombstone is "
                + "kept: the author may publish them again. Works while the relay runs (its writes wait for this "
                + "transaction), but a running relay may still have them queued to live subscribers.",
                "Exit codes: 0 done, 1 failed, 2 usage or configuration error."})
final class DeleteCommand implements Callable<Integer>, AdminCli.Streams {
    @Spec CommandSpec spec;
    @Mixin StoreOptions store;
    @Mixin FilterOptions filterOptions;

    @Option(names = "--dry-run", description = "only count what would be deleted")
    boolean dryRun;

    private PrintStream out;

    @Override
    public void use(PrintStream out, PrintStream err) {
        this.out = out;
    }

    @Override
    public Integer call() {
        if (filterOptions.filterJson == null && filterOptions.since == null && filterOptions.until == null) {
            throw new ParameterException(spec.commandLine(), "delete needs --filter (and/or --since/--until)");
        }
        Filter filter = filterOptions.filter(spec);
        if (filterOptions.isEmpty(filter)) {
            throw new ParameterException(spec.commandLine(), "refusing a filter that matches every event; narrow it");
        }
        long now = System.currentTimeMillis() / 1000;
        try (SqliteMaintenance m = SqliteMaintenance.open(store.databasePath(spec), dryRun)) {
            if (dryRun) {
                out.println("would delete " + m.count(filter, now) + " events");
            } else {
                out.println("deleted " + m.delete(filter, now) + " events");
            }
        }
        return AdminCli.OK;
    }
}
