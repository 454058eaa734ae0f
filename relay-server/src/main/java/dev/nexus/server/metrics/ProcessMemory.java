package dev.nexus.server.metrics;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** The process's resident memory as the kernel counts it (what an operator's "top" shows), not the JVM's view of its heap. */
final class ProcessMemory {
    private static final Path STATUS = Path.of("/proc/self/status");

    private ProcessMemory() {}

    static double residentBytes() {
        try {
            for (String line : Files.readAllLines(STATUS)) {
                if (line.startsWith("VmRSS:")) return kilobytes(line) * 1024.0;
            }
        } catch (IOException | RuntimeException e) {
            // not Linux, or /proc is hidden
        }
        return Double.NaN;
    }

    private static long kilobytes(String line) {
        String digits = line.substring("VmRSS:".length()).trim();
        int space = digits.indexOf(' ');
        return Long.parseLong(space < 0 ? digits : digits.substring(0, space));
    }
}
