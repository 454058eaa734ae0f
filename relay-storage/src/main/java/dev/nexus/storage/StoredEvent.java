package dev.nexus.storage;

/**
 * A stored event as a query returns it: the wire JSON as UTF-8 bytes (copied straight into the
 * outgoing frame, never decoded) plus the two fields results are ordered by.
 */
public record StoredEvent(String id, long createdAt, byte[] json) {
    public String jsonText() {
        return new String(json, java.nio.charset.StandardCharsets.UTF_8);
    }

    private static final byte[] ID_FIRST = "{\"id\":\"".getBytes(java.nio.charset.StandardCharsets.US_ASCII);

    /**
     * The id of stored JSON that starts {@code {"id":"<64 lowercase hex>"} (how the relay writes every
     * event, {@code EventJson.write}), else null. Reading it from the bytes a query fetched anyway
     * spares SQLite's driver one JNI string per row (W3: ~40 rows per query).
     */
    public static String idAtStart(byte[] json) {
        int start = ID_FIRST.length;
        if (json == null || json.length < start + 65 || json[start + 64] != '"') return null;
        for (int i = 0; i < start; i++) if (json[i] != ID_FIRST[i]) return null;
        for (int i = start; i < start + 64; i++) {
            byte b = json[i];
            if ((b < '0' || b > '9') && (b < 'a' || b > 'f')) return null;
        }
        return new String(json, start, 64, java.nio.charset.StandardCharsets.US_ASCII);
    }
}
