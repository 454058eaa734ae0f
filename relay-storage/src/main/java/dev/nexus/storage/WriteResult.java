package dev.nexus.storage;

/** The outcome of a write, already phrased as the NIP-01 OK message (with its machine-readable prefix). */
public record WriteResult(boolean accepted, String message) {
    public static final WriteResult STORED = new WriteResult(true, "");

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
