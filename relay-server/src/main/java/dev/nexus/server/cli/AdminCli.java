package dev.nexus.server.cli;

import ch.qos.logback.classic.Level;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.util.Set;
import org.slf4j.LoggerFactory;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * The admin commands of {@code java -jar nexus.jar <command> [--config nexus.toml] ...}: export,
 * import, delete, compact, stats, sync. Exit codes scripts can trust: 0 done, 1 failed, 2 usage or
 * configuration error. Data and results go to stdout, progress and errors to stderr.
 */
@Command(name = "nexus", versionProvider = AdminCli.VersionProvider.class, synopsisSubcommandLabel = "COMMAND",
        description = "Nexus admin commands (the relay itself starts without a command).",
        subcommands = {ExportCommand.class, ImportCommand.class, DeleteCommand.class, CompactCommand.class, StatsCommand.class, SyncCommand.class})
public final class AdminCli {
    static final int OK = 0, FAILED = 1, USAGE = 2;
    private static final Set<String> COMMANDS = Set.of("export", "import", "delete", "compact", "stats", "sync");

    /** Whether {@code firstArgument} names an admin command (anything else is the relay's own start). */
    public static boolean isCommand(String firstArgument) {
        return COMMANDS.contains(firstArgument);
    }

    public static int run(String[] args, PrintStream out, PrintStream err) {
        // The store's INFO lines would mix with exported data and reports; warnings still show.
        ((ch.qos.logback.classic.Logger) LoggerFactory.getLogger("dev.nexus")).setLevel(Level.WARN);
        logToStandardError();
        CommandLine cli = new CommandLine(new AdminCli());
        cli.setOut(new PrintWriter(out, true, StandardCharsets.UTF_8));
        cli.setErr(new PrintWriter(err, true, StandardCharsets.UTF_8));
        cli.setExecutionExceptionHandler((e, commandLine, parseResult) -> {
            commandLine.getErr().println("nexus " + commandLine.getCommandName() + ": " + message(e));
            return FAILED;
        });
        for (CommandLine sub : cli.getSubcommands().values()) {
            if (sub.getCommand() instanceof Streams s) s.use(out, err);
        }
        return cli.execute(args);
    }

    /** Log lines go to stderr, as the commands' own messages do: stdout carries their data (an export, a report). */
    private static void logToStandardError() {
        ch.qos.logback.classic.Logger root = (ch.qos.logback.classic.Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
        root.iteratorForAppenders().forEachRemaining(appender -> {
            if (appender instanceof ch.qos.logback.core.ConsoleAppender<?> console && !"System.err".equals(console.getTarget())) {
                console.stop();
                console.setTarget("System.err");
                console.start();
            }
        });
    }

    private static String message(Throwable e) {
        return e.getMessage() != null ? e.getMessage() : e.toString();
    }

    static final class VersionProvider implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            return new String[] {"nexus " + dev.nexus.server.Version.current()};
        }
    }

    /** Commands that write raw bytes to stdout or need to know whether stderr is a terminal. */
    interface Streams {
        void use(PrintStream out, PrintStream err);
    }
}
