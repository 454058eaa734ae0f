package dev.nexus.server;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs the relay in a JVM started with the options the relay needs, so that the operator's plain
 * {@code java -jar nexus.jar --config nexus.toml} gets them without typing flags (the way
 * Elasticsearch's launcher does it): the first JVM re-executes the same {@code java} binary with
 * those options in its own place ({@link ProcessImage}, {@code execv}: same pid, one JVM). Where
 * exec is not available it starts that JVM as a child instead and waits, forwarding termination to
 * the relay and exiting with its exit code ({@code NEXUS_LAUNCHER_CHILD=1} chooses this).
 *
 * <p>Why a second JVM rather than documented flags: a relay's speed and memory bound must not depend
 * on flags nobody passes (issue 16, issue 9). The options are chosen here, in one place, from the
 * machine the relay finds itself on; the operator's own JVM flags are passed on after them, so they
 * win. {@code NEXUS_NO_RELAUNCH=1} or {@code --no-relaunch} runs the relay in the first JVM as is.
 *
 * <p>The first JVM deliberately does not touch logging (Logback): it would be thrown away by the
 * exec, and a waiting parent stays a few tens of MiB without it. The relay JVM logs the one line
 * saying what was chosen ({@link #logChoice()}); a failed exec is one line on stderr.
 */
public final class Launcher {
    /** Set on the relay JVM's command line; its presence means "already launched, run the relay". */
    static final String LAUNCHED_PROPERTY = "nexus.launched";
    /** What the launcher chose, handed to the relay JVM so that it logs it in the relay's log format. */
    static final String CHOICE_PROPERTY = "nexus.launcher.choice";
    static final String NO_RELAUNCH_ENV = "NEXUS_NO_RELAUNCH";
    static final String NO_RELAUNCH_ARG = "--no-relaunch";
    /** Start the relay JVM as a child rather than in this process's place (the fallback, kept testable). */
    static final String CHILD_ENV = "NEXUS_LAUNCHER_CHILD";
    static final String MAIN_CLASS = "dev.nexus.server.Main";

    private Launcher() {}

    /**
     * Called first thing by {@link Main#main}. Either returns the arguments the relay should run
     * with in this JVM (already launched, relaunch disabled, or nothing to launch for), or replaces
     * this process with the relay JVM (never returns), or, where that fails, runs the relay in a
     * child JVM and exits this one with the child's exit code.
     */
    public static String[] relaunchIfNeeded(String[] args) {
        List<String> rest = new ArrayList<>(Arrays.asList(args));
        boolean disabled = rest.remove(NO_RELAUNCH_ARG) || isSet(System.getenv(NO_RELAUNCH_ENV));
        String[] relayArgs = rest.toArray(String[]::new);
        if (disabled || System.getProperty(LAUNCHED_PROPERTY) != null || !startsTheRelay(relayArgs)) {
            return relayArgs;
        }
        JvmPlan.Machine machine = JvmPlan.Machine.current();
        JvmPlan.Plan plan = JvmPlan.plan(machine, inheritedJvmArgs());
        if (JvmPlan.usesArchive(machine) && !Files.exists(machine.cdsArchive())) {
            JvmPlan.removeOtherArchives(machine.cdsArchive().getParent(), machine.cdsArchive());
        }
        List<String> command = new ArrayList<>();
        command.add(javaBinary());
        command.addAll(plan.jvmOptions());
        command.add("-D" + LAUNCHED_PROPERTY + "=" + ProcessHandle.current().pid());
        command.add("-D" + CHOICE_PROPERTY + "=" + plan.summary());
        command.add("-cp");
        command.add(System.getProperty("java.class.path"));
        command.add(MAIN_CLASS);
        command.addAll(Arrays.asList(relayArgs));
        if (!isSet(System.getenv(CHILD_ENV))) {
            String failure = ProcessImage.replaceWith(command); // returns only if the exec failed
            System.err.println("nexus: cannot run the relay JVM in place of the launcher (" + failure + "); starting it as a child");
        }
        return runAsChild(command, relayArgs);
    }

    private static String[] runAsChild(List<String> command, String[] relayArgs) {
        Process child;
        try {
            child = new ProcessBuilder(command).inheritIO().start();
        } catch (IOException e) {
            System.err.println("nexus: cannot start the relay JVM (" + e.getMessage() + "); running in this JVM without the launcher's options");
            return relayArgs;
        }
        Thread forwarder = new Thread(() -> stop(child), "nexus-launcher-shutdown");
        Runtime.getRuntime().addShutdownHook(forwarder);
        try {
            // On SIGTERM, forward it and then exit as the relay did (0 after a clean stop), not with 143.
            sun.misc.Signal.handle(new sun.misc.Signal("TERM"), signal -> new Thread(() -> stop(child), "nexus-launcher-sigterm").start());
        } catch (Throwable unsupported) {
            // the shutdown hook still forwards it
        }
        // From here on this JVM only waits: give back the heap it grew while starting (JDK 12+
        // collectors uncommit after a full collection), so the pair costs little more than the relay.
        System.gc();
        int code = waitFor(child);
        try {
            Runtime.getRuntime().removeShutdownHook(forwarder);
        } catch (IllegalStateException shuttingDown) {
            // the hook is already forwarding a signal; the JVM ends when it returns
        }
        System.exit(code);
        return null; // not reached
    }

    /**
     * In the relay JVM: log what the launcher chose (or that there was no launcher). When the relay
     * is the launcher's child, stop when the launcher disappears without forwarding a signal (for
     * example after SIGKILL), so no orphaned relay keeps the port and the database.
     */
    static void logChoice() {
        Logger log = LoggerFactory.getLogger(Launcher.class);
        String choice = System.getProperty(CHOICE_PROPERTY);
        String parent = System.getProperty(LAUNCHED_PROPERTY);
        if (choice != null && parent != null && parent.equals(Long.toString(ProcessHandle.current().pid()))) {
            log.info("launcher re-executed this process (pid {}) as a JVM with: {}", parent, choice);
        } else if (choice != null && parent != null) {
            log.info("launcher (pid {}) started this JVM with: {}", parent, choice);
            watchParent(parent);
        } else {
            List<String> own = inheritedJvmArgs();
            log.info("running without the launcher; JVM options: {}", own.isEmpty() ? "(none)" : String.join(" ", own));
        }
    }

    private static void watchParent(String parentPid) {
        try {
            long pid = Long.parseLong(parentPid);
            ProcessHandle.of(pid).ifPresentOrElse(
                    p -> p.onExit().thenRun(() -> {
                        LoggerFactory.getLogger(Launcher.class).info("launcher (pid {}) is gone: stopping", pid);
                        System.exit(1);
                    }),
                    () -> System.exit(1));
        } catch (NumberFormatException ignored) {
            // set by hand to a non-pid: nothing to watch
        }
    }

    /** --help, --version and argument errors are answered by this JVM at once; only a relay run is relaunched. */
    static boolean startsTheRelay(String[] args) {
        // The admin commands (dev.nexus.server.cli) run in this JVM: they need none of the relay's options.
        if (args.length > 0 && dev.nexus.server.cli.AdminCli.isCommand(args[0])) return false;
        for (String a : args) {
            if (!a.equals("--config") && !a.equals("-c") && a.startsWith("-")) return false;
        }
        return true;
    }

    /**
     * The JVM options this JVM was started with, minus those that the environment
     * ({@code JAVA_TOOL_OPTIONS}, {@code JDK_JAVA_OPTIONS}) already gives the child, and minus the
     * launcher's own marker properties.
     */
    static List<String> inheritedJvmArgs() {
        Set<String> fromEnv = new HashSet<>();
        for (String var : List.of("JAVA_TOOL_OPTIONS", "JDK_JAVA_OPTIONS")) {
            String v = System.getenv(var);
            if (v != null) fromEnv.addAll(Arrays.asList(v.trim().split("\\s+")));
        }
        List<String> out = new ArrayList<>();
        for (String a : ManagementFactory.getRuntimeMXBean().getInputArguments()) {
            if (fromEnv.contains(a) || a.startsWith("-D" + LAUNCHED_PROPERTY + "=") || a.startsWith("-D" + CHOICE_PROPERTY + "=")) continue;
            out.add(a);
        }
        return out;
    }

    private static String javaBinary() {
        return ProcessHandle.current().info().command()
                .filter(c -> Files.isExecutable(Path.of(c)))
                .orElse(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    }

    private static void stop(Process child) {
        if (!child.isAlive()) return;
        child.destroy(); // SIGTERM: the relay closes cleanly (its own shutdown hook)
        try {
            if (!child.waitFor(60, TimeUnit.SECONDS)) child.destroyForcibly();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static int waitFor(Process child) {
        while (true) {
            try {
                return child.waitFor();
            } catch (InterruptedException ignored) {
                // keep waiting: the child's exit is this JVM's exit
            }
        }
    }

    private static boolean isSet(String v) {
        return v != null && !v.isBlank() && !v.equals("0") && !v.equalsIgnoreCase("false");
    }
}
