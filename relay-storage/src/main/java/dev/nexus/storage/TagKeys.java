package dev.nexus.storage;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import java.io.IOException;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;

/**
 * The SQLite tag table is keyed by (name, value, kind, created_at, event), with no index by event:
 * to delete an event's tag rows the writer reads the tags back from the event's stored JSON. They
 * are decoded by Jackson, as at ingest, so each value is the very string that was inserted (SQLite's
 * own JSON functions decode lone surrogates differently, and a row they missed would be left behind).
 */
public final class TagKeys {
    private static final JsonFactory JSON = new JsonFactory();
    /** Removes one tag row: name, value, kind, created_at, event_seq. */
    static final String DELETE_BY_KEY = "DELETE FROM tag WHERE name = ? AND value = ? AND kind = ? AND created_at = ? AND event_seq = ?";
    /** Removes every tag row of one event by walking the whole table: only for JSON that cannot be read. */
    static final String DELETE_BY_SCAN = "DELETE FROM tag WHERE event_seq = ?";

    private TagKeys() {}

    /**
     * Removes the tag rows of the stored event {@code seq} (of that kind and created_at, whose stored
     * JSON is {@code eventJson}) with {@link #DELETE_BY_KEY}; JSON that cannot be read (never the
     * relay's own; a hand-edited file) falls back to {@link #DELETE_BY_SCAN}. Returns false then.
     */
    static boolean deleteRows(PreparedStatement byKey, PreparedStatement byScan, long seq, int kind, long createdAt, String eventJson)
            throws SQLException {
        List<String[]> tags;
        try {
            tags = singleLetter(eventJson);
        } catch (IOException unreadable) {
            byScan.setLong(1, seq);
            byScan.executeUpdate();
            return false;
        }
        if (tags.isEmpty()) return true;
        for (String[] tag : tags) {
            byKey.setString(1, tag[0]);
            byKey.setString(2, tag[1]);
            byKey.setInt(3, kind);
            byKey.setLong(4, createdAt);
            byKey.setLong(5, seq);
            byKey.addBatch();
        }
        byKey.executeBatch();
        return true;
    }

    /** The (name, value) of each single-letter tag in the event JSON, as {@code WriterStatements} indexes them (and the LMDB store). */
    public static List<String[]> singleLetter(String eventJson) throws IOException {
        List<String[]> keys = new ArrayList<>();
        try (JsonParser p = JSON.createParser(eventJson)) {
            if (p.nextToken() != JsonToken.START_OBJECT) return keys;
            while (p.nextToken() == JsonToken.FIELD_NAME) {
                String field = p.currentName();
                JsonToken t = p.nextToken();
                if (!field.equals("tags") || t != JsonToken.START_ARRAY) {
                    p.skipChildren();
                    continue;
                }
                while (p.nextToken() == JsonToken.START_ARRAY) {
                    String name = p.nextToken() == JsonToken.VALUE_STRING ? p.getText() : null;
                    String value = name != null && p.nextToken() == JsonToken.VALUE_STRING ? p.getText() : null;
                    if (name != null && name.length() == 1 && value != null) keys.add(new String[] {name, value});
                    if (p.currentToken() != JsonToken.END_ARRAY) {
                        while (p.nextToken() != JsonToken.END_ARRAY) p.skipChildren();
                    }
                }
            }
        }
        return keys;
    }
}
