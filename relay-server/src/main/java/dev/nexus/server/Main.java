package dev.nexus.server;

import dev.nexus.config.ConfigException;
import dev.nexus.config.NexusConfig;
import dev.nexus.server.cli.AdminCli;
import dev.nexus.server.warmup.JitWarmup;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** The composition root: {@code java -jar nexus.jar [--config nexus.toml]}. */
public final class Main {
    private static final String USAGE = """
            Usage: java -jar nexus.jar [--config FILE] [--no-relaunch] [--help] [--version]
                   java -jar nexus.jar export|import|delete|compact|stats|sync --help   (admin commands)

            Nexus, a Nostr relay for the agent compute marketplace.

              --config FILE   TOML configuration (see nexus.toml); without it the relay runs on
                              built-in defaults: bind 127.0.0.1:7777, SQLite at ./data/nexus.db,
                              NIP-42 authentication required.
              --no-relaunch   run the relay in this JVM as started, instead of a JVM started with
                              the relay's own options (also: NEXUS_NO_RELAUNCH=1)
              --help          print this help and exit
              --version       print the version and exit
            """;

    private Main() {}

    public static void main(String[] args) throws Exception {
        args = Launcher.relaunchIfNeeded(args);
        int code = run(args, System.out, System.err);
        if (code >= 0) System.exit(code);
    }

    /** Returns an exit code; once the relay has started, it returns 0 after a clean stop (SIGTERM). */
    static int run(String[] args, PrintStream out, PrintStream err) throws Exception {
        if (args.length > 0 && AdminCli.isCommand(args[0])) return AdminCli.run(args, out, err); // each command unpacks the libraries once it has read its config
        Path configFile = null;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--help", "-h" -> {
                    out.print(USAGE);
                    return 0;
                }
                case "--version", "-V" -> {
                    out.println("nexus " + Version.current());
                    return 0;
                }
                case "--config", "-c" -> {
                    if (i + 1 >= args.length) {
                        err.println("nexus: --config needs a file name");
                        return 2;
                    }
                    configFile = Path.of(args[++i]);
                }
                default -> {
                    err.println("nexus: unknown argument " + args[i] + "\n");
                    err.print(USAGE);
                    return 2;
                }
            }
        }
        NexusConfig config;
        try {
            config = configFile == null ? NexusConfig.defaults() : NexusConfig.load(configFile);
        } catch (ConfigException e) {
            err.println("nexus: config error: " + e.getMessage());
            return 2;
        }
        Logger log = LoggerFactory.getLogger(Main.class);
        Launcher.logChoice();
        NativeLibraries.unpackOnce(config.storage());
        if (configFile == null) {
            log.info("no --config given: using built-in defaults (bind {}:{}, storage {}, auth required)",
                    config.server().host(), config.server().port(), config.storage().path());
        } else {
            log.info("configuration loaded from {}", configFile.toAbsolutePath());
        }
        // The hook is in place before start(), so a SIGTERM that arrives while the relay starts
        // (a supervisor, the launcher forwarding one) still closes it cleanly, after start() is done.
        NexusServer server = new NexusServer(config);
        CountDownLatch stopped = new CountDownLatch(1);
        AtomicBoolean stopping = new AtomicBoolean();
        Thread hook = new Thread(() -> {
            // Set before waiting for the start to finish: a warm-up still running gives up at once.
            stopping.set(true);
            log.info("shutting down");
            synchronized (server) {
                server.close();
            }
            stopped.countDown();
        }, "nexus-shutdown");
        Runtime.getRuntime().addShutdownHook(hook);
        try {
            // SIGTERM (systemd, docker stop, kill, the launcher forwarding one) is the normal way to stop
            // a relay: answer it with a clean exit 0, not 143 -- also while it is still starting (the
            // handler's close waits for start() to finish).
            sun.misc.Signal.handle(new sun.misc.Signal("TERM"), signal -> new Thread(hook::run, "nexus-sigterm").start());
        } catch (Throwable unsupported) {
            log.debug("no SIGTERM handler on this JVM ({}); the shutdown hook still closes the relay", unsupported.toString());
        }
        try {
            synchronized (server) {
                if (config.server().warmUp()) warmUp(config, log, stopping::get);
                if (!stopping.get()) server.start();
            }
        } catch (Exception e) {
            err.println("nexus: cannot start: " + e.getMessage());
            try {
                Runtime.getRuntime().removeShutdownHook(hook);
                server.close();
            } catch (IllegalStateException shuttingDown) {
                // the hook closes it
            }
            return 1;
        }
        stopped.await();
        return 0;
    }

    /** Before the port opens, so that the first clients meet compiled code (dev.nexus.server.warmup). */
    private static void warmUp(NexusConfig config, Logger log, java.util.function.BooleanSupplier stopRequested) {
        JitWarmup.run(config, stopRequested).ifPresent(r -> log.info(
                "JIT warm-up: {} events published ({} accepted{}), {} live deliveries, {} of {} queries answered, through a throwaway relay on a temporary file in {} ms",
                r.published(), r.accepted(), r.superseded() == 0 ? "" : ", " + r.superseded() + " superseded by a newer version",
                r.liveDeliveries(), r.answered(), r.queries(), r.millis()));
        // Collects the throwaway relay's garbage and the warm-up's HTTP client, whose selector thread
        // (JDK 17) ends only once the client is collected. Measured: fresh RSS the same with or without.
        System.gc();
    }
}
