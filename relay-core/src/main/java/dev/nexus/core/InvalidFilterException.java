package dev.nexus.core;

/**
 * A REQ, COUNT or NEG-OPEN whose subscription id is usable but whose filters are not: answered
 * with CLOSED (NEG-ERR for a NEG-OPEN, whose subscription ids are a namespace of their own).
 */
public final class InvalidFilterException extends Exception {
    private final String subscriptionId;
    private final String verb;

    public InvalidFilterException(String subscriptionId, String reason) {
        this(subscriptionId, reason, "REQ");
    }

    public InvalidFilterException(String subscriptionId, String reason, String verb) {
        super(reason, null, false, false);
        this.subscriptionId = subscriptionId;
        this.verb = verb;
    }

    /** The message the filter came in: REQ, COUNT or NEG-OPEN. */
    public String verb() {
        return verb;
    }

    public String subscriptionId() {
        return subscriptionId;
    }
}
