package dev.nexus.server.warmup;

import ch.qos.logback.classic.Level;
import org.slf4j.LoggerFactory;

/** Holds a logger at WARN while the throwaway relay starts and stops, so that operators read only the real relay's lines. */
final class QuietLogs implements AutoCloseable {
    private final ch.qos.logback.classic.Logger logger;
    private final Level before;

    private QuietLogs(ch.qos.logback.classic.Logger logger) {
        this.logger = logger;
        this.before = logger == null ? null : logger.getLevel();
        if (logger != null) logger.setLevel(Level.WARN);
    }

    static QuietLogs below(String name) {
        return new QuietLogs(LoggerFactory.getLogger(name) instanceof ch.qos.logback.classic.Logger l ? l : null);
    }

    @Override
    public void close() {
        if (logger != null) logger.setLevel(before);
    }
}
