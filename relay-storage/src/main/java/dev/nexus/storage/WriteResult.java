package dev.nexus.storage;

/** The outcome of a write, already phrased as the NIP-01 OK message (with its machine-readable prefix). */
public record WriteResult(boolean accepted, String message) {
    public static final WriteResult STORED = new WriteResult(true, "");
    /**
     * The relay already holds this very event: a success (NIP-01's own example), so that an agent
     * publishing to several relays or again after a reconnect is not told its publish failed.
     */
    public static final WriteResult ALREADY_STORED = new WriteResult(true, "duplicate: already have this event");

    /** Whether this is the answer for an event the relay already held (accepted, but nothing new was stored). */
    public boolean alreadyStored() {
        return equals(ALREADY_STORED);
    }

    /** Refused as a duplicate of something newer (an older replaceable version): stays false. */
    public static WriteResult duplicate(String why) {
        return new WriteResult(false, "duplicate: " + why);
    }

    public static WriteResult blocked(String why) {
        return new WriteResult(false, "blocked: " + why);
    }

    public static WriteResult error(String why) {
        return new WriteResult(false, "error: " + why);
    }
}
