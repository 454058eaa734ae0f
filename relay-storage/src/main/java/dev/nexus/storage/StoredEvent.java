package dev.nexus.storage;

import java.nio.charset.StandardCharsets;

/**
 * A stored event as a query returns it: the wire JSON as UTF-8 bytes (copied straight into the
 * outgoing frame, never decoded) plus the two fields results are ordered by.
 *
 * <p>The id of JSON the relay wrote itself is read from its first bytes, and only when asked for:
 * a one-filter REQ (most of them) never needs it, and validating 64 digits per row was 7.5% of the
 * query threads' CPU in W3 (async-profiler, C1-compiled code).
 */
public final class StoredEvent {
    private static final byte[] ID_FIRST = "{\"id\":\"".getBytes(StandardCharsets.US_ASCII);
    private static final int ID_LENGTH = 64;

    private final long createdAt;
    private final byte[] json;
    /** Null until {@link #id()} reads it from {@link #json}; a String, so a racy first read is harmless. */
    private String id;

    public StoredEvent(String id, long createdAt, byte[] json) {
        this.id = java.util.Objects.requireNonNull(id, "id");
        this.createdAt = createdAt;
        this.json = json;
    }

    private StoredEvent(long createdAt, byte[] json) {
        this.createdAt = createdAt;
        this.json = json;
    }

    /**
     * An event whose JSON starts {@code {"id":"} with the closing quote 64 bytes later, which is how the
     * relay writes every event ({@code EventJson.write}); null for any other layout, whose caller then
     * passes the stored id column. The 64 bytes between are the id: every stored event passed the
     * check that its id is 64 lowercase hex digits, and such an id spelled with any escape would not
     * close there.
     */
    public static StoredEvent withIdAtStart(long createdAt, byte[] json) {
        return idAtStart(json) ? new StoredEvent(createdAt, json) : null;
    }

    static boolean idAtStart(byte[] json) {
        int start = ID_FIRST.length;
        if (json == null || json.length < start + ID_LENGTH + 1 || json[start + ID_LENGTH] != '"') return false;
        for (int i = 0; i < start; i++) if (json[i] != ID_FIRST[i]) return false;
        return true;
    }

    public String id() {
        String known = id;
        if (known == null) id = known = new String(json, ID_FIRST.length, ID_LENGTH, StandardCharsets.US_ASCII);
        return known;
    }

    public long createdAt() {
        return createdAt;
    }

    public byte[] json() {
        return json;
    }

    public String jsonText() {
        return new String(json, StandardCharsets.UTF_8);
    }

    @Override
    public String toString() {
        return "StoredEvent[id=" + id() + ", createdAt=" + createdAt + "]";
    }
}
