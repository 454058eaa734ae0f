package dev.nexus.server.warmup;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import java.util.LinkedHashMap;
import java.util.Map;
import org.slf4j.LoggerFactory;

/**
 * Holds a logger (and those below it) at WARN while the throwaway relay starts and stops, so that
 * operators read only the real relay's lines; the loggers named as still heard keep their level (the
 * composition root's "shutting down" when a SIGTERM arrives during the warm-up).
 */
final class QuietLogs implements AutoCloseable {
    /** Each logger changed, with the level it had (null: inherited). */
    private final Map<Logger, Level> before = new LinkedHashMap<>();

    private QuietLogs() {}

    static QuietLogs below(String name, String... stillHeard) {
        QuietLogs q = new QuietLogs();
        for (String heard : stillHeard) {
            if (LoggerFactory.getLogger(heard) instanceof Logger l) {
                q.before.put(l, l.getLevel());
                l.setLevel(l.getEffectiveLevel());
            }
        }
        if (LoggerFactory.getLogger(name) instanceof Logger l) {
            q.before.put(l, l.getLevel());
            l.setLevel(Level.WARN);
        }
        return q;
    }

    @Override
    public void close() {
        before.forEach(Logger::setLevel);
    }
}
