package dev.nexus.storage;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

/**
 * The SQLite tag table is keyed by (name, value, kind, created_at, event), with no index by event:
 * to delete an event's tag rows the writer reads the tags back from the event's stored JSON. They
 * are decoded by Jackson, as at ingest, so each value is the very string that was inserted (SQLite's
 * own JSON functions decode lone surrogates differently, and a row they missed would be left behind).
 */
final class TagKeys {
    private static final JsonFactory JSON = new JsonFactory();

    private TagKeys() {}

    /** The (name, value) of each single-letter tag in the event JSON, as {@code WriterStatements} indexes them. */
    static List<String[]> singleLetter(String eventJson) throws IOException {
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
