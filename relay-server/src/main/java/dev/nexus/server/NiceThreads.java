package dev.nexus.server;

import java.io.IOException;
import java.lang.ProcessBuilder.Redirect;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.OptionalInt;
import java.util.concurrent.TimeUnit;

/**
 * Lowers the calling thread's CPU priority (raises its nice value). Java has no call for it:
 * {@code Thread.setPriority} does nothing on Linux unless the JVM runs with
 * {@code -XX:ThreadPriorityPolicy=1}, which prints a warning about root permissions at every
 * start of a relay that is not root. So the thread finds its own id through
 * {@code /proc/thread-self} and asks {@code renice} (util-linux, busybox) once. Lowering one's own
 * priority needs no privilege. Without {@code /proc} or {@code renice}, nothing changes.
 */
final class NiceThreads {
    private static final int MAX_NICE = 19;
    private static final long RENICE_TIMEOUT_SECONDS = 5;

    private NiceThreads() {}

    /**
     * Adds {@code increment} to this thread's nice value (capped at 19); returns the nice value it
     * then has, or empty if it could not be changed.
     */
    static OptionalInt lowerThisThread(int increment) {
        try {
            Path self = Path.of("/proc/thread-self");
            if (!Files.exists(self)) return OptionalInt.empty();
            // "<pid>/task/<tid>": a /proc of another pid namespace (a sandbox, a host's /proc mounted in) names
            // some other process's thread, which must not be touched.
            Path link = Files.readSymbolicLink(self);
            if (link.getNameCount() != 3 || !link.getName(0).toString().equals(Long.toString(ProcessHandle.current().pid()))) {
                return OptionalInt.empty();
            }
            String tid = link.getFileName().toString();
            int target = Math.min(MAX_NICE, niceOf(self) + increment);
            // The bare number is an absolute nice value for util-linux and busybox alike ("-n" is not: busybox adds it).
            Process renice = new ProcessBuilder("renice", Integer.toString(target), "-p", tid)
                    .redirectErrorStream(true).redirectOutput(Redirect.DISCARD).start();
            if (!renice.waitFor(RENICE_TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
                renice.destroyForcibly();
                return OptionalInt.empty();
            }
            if (renice.exitValue() != 0) return OptionalInt.empty();
            int now = niceOf(self);
            return now == target ? OptionalInt.of(now) : OptionalInt.empty();
        } catch (IOException | RuntimeException e) {
            return OptionalInt.empty();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return OptionalInt.empty();
        }
    }

    /** The nice value in {@code <task>/stat}: the 19th field, counted after the parenthesised name. */
    static int niceOf(Path task) throws IOException {
        String stat = Files.readString(task.resolve("stat"));
        String[] afterName = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
        return Integer.parseInt(afterName[16]);
    }
}
