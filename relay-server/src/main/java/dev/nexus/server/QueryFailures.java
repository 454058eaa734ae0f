package dev.nexus.server;

import dev.nexus.storage.StoreException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** The CLOSED message for a REQ or COUNT whose query could not be answered; only real faults are logged as errors. */
public final class QueryFailures {
    private static final Logger log = LoggerFactory.getLogger(QueryFailures.class);

    private QueryFailures() {
    }

    public static String answer(RuntimeException ex, String what, String subId) {
        if (ex instanceof StoreException se && se.reason() == StoreException.Reason.TIMEOUT) {
            log.debug("{} for subscription {} ran out of time", what, LogSafe.quote(subId));
            return "error: this " + what + " took too long; narrow its filters (since/until, authors, kinds, limit)";
        }
        if (ex instanceof StoreException se && se.reason() == StoreException.Reason.TOO_MANY_VALUES) {
            return "invalid: " + se.getMessage();
        }
        log.error("{} for subscription {} failed: {}", what, LogSafe.quote(subId), ex.toString());
        return "error: could not run this " + what;
    }
}
