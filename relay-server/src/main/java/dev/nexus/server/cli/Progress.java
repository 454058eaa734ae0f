package dev.nexus.server.cli;

import java.io.PrintStream;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * Progress of long work on stderr: on a terminal one line redrawn in place four times a second;
 * otherwise (a log file, a pipe, CI) a plain line every ten seconds.
 */
final class Progress implements AutoCloseable {
    private final PrintStream err;
    private final boolean terminal;
    private final Supplier<String> status;
    private final ScheduledExecutorService ticker;

    Progress(PrintStream err, boolean terminal, Supplier<String> status) {
        this.err = err;
        this.terminal = terminal;
        this.status = status;
        this.ticker = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "nexus-cli-progress");
            t.setDaemon(true);
            return t;
        });
        long periodMillis = terminal ? 250 : 10_000;
        ticker.scheduleAtFixedRate(this::print, periodMillis, periodMillis, TimeUnit.MILLISECONDS);
    }

    /** Whether stderr is an interactive terminal (Java 17 tells only whether the process has a console). */
    static boolean stderrIsTerminal(PrintStream err) {
        return err == System.err && System.console() != null && !"dumb".equals(System.getenv("TERM"));
    }

    private void print() {
        if (terminal) err.print("\r\033[K" + status.get());
        else err.println(status.get());
        err.flush();
    }

    @Override
    public void close() {
        ticker.shutdownNow();
        if (terminal) {
            err.print("\r\033[K");
            err.flush();
        }
    }

    static String rate(long count, long nanos) {
        double seconds = Math.max(nanos, 1) / 1e9;
        return String.format("%,.0f ev/s", count / seconds);
    }

    static String seconds(long nanos) {
        return String.format("%.1f s", nanos / 1e9);
    }
}
