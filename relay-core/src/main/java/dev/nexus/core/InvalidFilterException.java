package dev.nexus.core;

/** A REQ whose subscription id is usable but whose filters are not: answered with CLOSED. */
public final class InvalidFilterException extends Exception {
    private final String subscriptionId;

    public InvalidFilterException(String subscriptionId, String reason) {
        super(reason, null, false, false);
        this.subscriptionId = subscriptionId;
    }

    public String subscriptionId() {
        return subscriptionId;
    }
}
