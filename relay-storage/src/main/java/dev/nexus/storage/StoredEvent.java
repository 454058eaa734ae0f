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
    /** The id the caller read from the stored column; null when it is in the JSON's first bytes. */
    private final String givenId;
    /**
     * Read from {@link #json} on the first {@link #id()} when {@link #givenId} is null: every thread
     * that reads it computes the same String from final fields, so a racy first read is harmless.
     */
    private String idFromJson;

    public StoredEvent(String id, long createdAt, byte[] json) {
        this.givenId = java.util.Objects.requireNonNull(id, "id");
        this.createdAt = createdAt;
        this.json = json;
    }

    private StoredEvent(long createdAt, byte[] json) {
        this.givenId = null;
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
        if (givenId != null) return givenId;
        String read = idFromJson;
        if (read == null) idFromJson = read = new String(json, ID_FIRST.length, ID_LENGTH, StandardCharsets.US_ASCII);
        return read;
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
