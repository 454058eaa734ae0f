package dev.nexus.server;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import dev.nexus.core.Event;
import dev.nexus.server.policy.AccessControl;
import java.io.IOException;

/**
 * Denied pubkeys (config or a NIP-86 ban) are not served: their stored events are dropped from
 * query results and their events from live fan-out, from the moment of the ban, without deleting
 * anything (an unban brings them back). Costs nothing while nobody is denied.
 */
public final class HiddenAuthors {
    private static final JsonFactory JSON = new JsonFactory();
    private final AccessControl access;

    public HiddenAuthors(AccessControl access) {
        this.access = access;
    }

    public boolean any() {
        return !access.deniedPubkeys().isEmpty();
    }

    public boolean hides(Event e) {
        return access.isDenied(e.pubkey());
    }

    /** For a stored event's wire JSON: reads top-level fields up to {@code pubkey}. */
    public boolean hides(byte[] json) {
        try (JsonParser p = JSON.createParser(json)) {
            if (p.nextToken() != JsonToken.START_OBJECT) return false;
            while (p.nextToken() == JsonToken.FIELD_NAME) {
                String field = p.currentName();
                p.nextToken();
                if (field.equals("pubkey")) return access.isDenied(p.getText());
                p.skipChildren();
            }
        } catch (IOException e) {
            return false;
        }
        return false;
    }
}
