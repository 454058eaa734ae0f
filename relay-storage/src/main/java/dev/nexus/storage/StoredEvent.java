package dev.nexus.storage;

/**
 * A stored event as a query returns it: the wire JSON as UTF-8 bytes (copied straight into the
 * outgoing frame, never decoded) plus the two fields results are ordered by.
 */
public record StoredEvent(String id, long createdAt, byte[] json) {
    public String jsonText() {
        return new String(json, java.nio.charset.StandardCharsets.UTF_8);
    }
}
