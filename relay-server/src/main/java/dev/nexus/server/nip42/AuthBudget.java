package dev.nexus.server.nip42;

import java.util.concurrent.atomic.AtomicInteger;

/**
 * What AUTH frames may cost one connection. Each one can cost a Schnorr verification, so a client
 * replaying one frame with a valid id and a bad signature must not buy a verification per copy:
 * a connection has at most {@code max_auths_in_flight} AUTHs being checked, at most
 * {@code max_auths_per_connection} in all, and is closed after {@code max_failed_auths} failures
 * or past that total.
 * Only a connection's first AUTHs, before any failure, use the verifiers' priority lane; later
 * ones queue with ordinary events, so a flood of AUTHs cannot push job traffic back.
 */
public final class AuthBudget {
    /** One connection's AUTH account. */
    public static final class Account {
        private final AtomicInteger inFlight = new AtomicInteger();
        private final AtomicInteger attempts = new AtomicInteger();
        private final AtomicInteger failures = new AtomicInteger();
    }

    private final int maxInFlight;
    private final int maxAttempts;
    private final int maxFailures;

    AuthBudget(int maxInFlight, int maxAttempts, int maxFailures) {
        this.maxInFlight = maxInFlight;
        this.maxAttempts = maxAttempts;
        this.maxFailures = maxFailures;
    }

    /** Takes a slot for one AUTH frame; null when admitted, else the OK message. */
    String admit(Account a) {
        if (a.failures.get() >= maxFailures) return "restricted: too many failed AUTH attempts on this connection";
        if (a.attempts.incrementAndGet() > maxAttempts) return "rate-limited: too many AUTH attempts on this connection (max " + maxAttempts + ")";
        if (a.inFlight.incrementAndGet() > maxInFlight) {
            a.inFlight.decrementAndGet();
            return "rate-limited: wait for the answer to your previous AUTH";
        }
        return null;
    }

    /**
     * Whether the connection has sent more AUTH frames than it may send in all: it is then closed,
     * as after too many failures (a flood that outruns the checks would otherwise stay connected,
     * refused forever but never reaching {@code max_failed_auths}).
     */
    boolean exhausted(Account a) {
        return a.attempts.get() > maxAttempts;
    }

    /** Whether this admitted AUTH may use the verifiers' priority lane. */
    boolean priority(Account a) {
        return a.failures.get() == 0;
    }

    /** Releases the slot; returns true when the connection has now failed too often and must be closed. */
    boolean done(Account a, boolean failed) {
        a.inFlight.decrementAndGet();
        return failed && a.failures.incrementAndGet() >= maxFailures;
    }
}
