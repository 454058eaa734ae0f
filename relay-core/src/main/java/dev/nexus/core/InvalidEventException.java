package dev.nexus.core;

/** An EVENT that fails validation; {@link #eventId()} is what the OK answer is correlated with. */
public final class InvalidEventException extends Exception {
    private final String eventId;

    public InvalidEventException(String eventId, String reason) {
        super(reason, null, false, false);
        this.eventId = eventId;
    }

    /** The id as the client sent it (possibly malformed), or null when none could be read. */
    public String eventId() {
        return eventId;
    }
}
