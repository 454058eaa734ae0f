package dev.nexus.storage;

/**
 * The outcome of a write: a {@link Status} the relay branches on, and the NIP-01 OK message (with its
 * machine-readable prefix) the client reads. Callers decide by {@link #status()}, never by the text.
 */
public record WriteResult(Status status, String message) {

    /** What happened to the event; {@link #accepted()} and the message prefix follow from it. */
    public enum Status {
        /** Newly stored (or, for an ephemeral event, relayed). */
        STORED(true),
        /** The relay already holds this very event: OK true with "duplicate:", nothing new stored. */
        DUPLICATE(true),
        /** A replaceable or addressable event older than the version already stored ("duplicate:", OK false). */
        REJECTED_OLDER(false),
        /** Deleted by its author (NIP-09 tombstone) or otherwise refused for good ("blocked:"). */
        BLOCKED(false),
        /** The event cannot be stored as it is ("invalid:"). */
        INVALID(false),
        /** The store failed or is stopping; publishing again later may work ("error:"). */
        ERROR(false);

        private final boolean accepted;

        Status(boolean accepted) {
            this.accepted = accepted;
        }
    }

    public static final WriteResult STORED = new WriteResult(Status.STORED, "");
    /**
     * The relay already holds this very event: a success (NIP-01's own example), so that an agent
     * publishing to several relays or again after a reconnect is not told its publish failed.
     */
    public static final WriteResult ALREADY_STORED = new WriteResult(Status.DUPLICATE, "duplicate: already have this event");

    /** The OK message's true/false. */
    public boolean accepted() {
        return status.accepted;
    }

    /** Whether this is the answer for an event the relay already held (accepted, but nothing new was stored). */
    public boolean alreadyStored() {
        return status == Status.DUPLICATE;
    }

    /** Whether this write added the event (so it is news for live subscribers and caches). */
    public boolean isNew() {
        return status == Status.STORED;
    }

    /** Refused as a duplicate of something newer (an older replaceable version): stays false. */
    public static WriteResult olderThanStored(String why) {
        return new WriteResult(Status.REJECTED_OLDER, "duplicate: " + why);
    }

    public static WriteResult blocked(String why) {
        return new WriteResult(Status.BLOCKED, "blocked: " + why);
    }

    public static WriteResult invalid(String why) {
        return new WriteResult(Status.INVALID, "invalid: " + why);
    }

    public static WriteResult error(String why) {
        return new WriteResult(Status.ERROR, "error: " + why);
    }
}
