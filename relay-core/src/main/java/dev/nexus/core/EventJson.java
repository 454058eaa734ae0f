package dev.nexus.core;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * Event JSON in both directions, written by hand rather than through Jackson's generator:
 * Jackson escapes non-ASCII and control characters differently from the reference clients, which
 * yields wrong ids. The escaping here is the one every Nostr signer uses (JSON.stringify / serde):
 * \" \\ \b \t \n \f \r, other characters below 0x20 and lone surrogates as lowercase \\u00xx,
 * everything else verbatim in UTF-8.
 */
public final class EventJson {
    private static final char[] HEX = "0123456789abcdef".toCharArray();
    private static final ThreadLocal<MessageDigest> SHA256 = ThreadLocal.withInitial(() -> {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    });

    private EventJson() {}

    /** The NIP-01 serialization {@code [0,pubkey,created_at,kind,tags,content]} the id is hashed over. */
    public static String canonical(String pubkey, long createdAt, int kind, List<List<String>> tags, String content) {
        StringBuilder sb = new StringBuilder(128 + content.length());
        sb.append("[0,\"").append(pubkey).append("\",").append(createdAt).append(',').append(kind).append(',');
        appendTags(sb, tags);
        sb.append(',');
        appendQuoted(sb, content);
        sb.append(']');
        return sb.toString();
    }

    /** Lowercase hex SHA-256 of the canonical serialization. */
    public static String computeId(String pubkey, long createdAt, int kind, List<List<String>> tags, String content) {
        return Hex.encode(computeIdBytes(pubkey, createdAt, kind, tags, content));
    }

    public static byte[] computeIdBytes(String pubkey, long createdAt, int kind, List<List<String>> tags, String content) {
        byte[] utf8 = canonical(pubkey, createdAt, kind, tags, content).getBytes(StandardCharsets.UTF_8);
        MessageDigest md = SHA256.get();
        md.reset();
        return md.digest(utf8);
    }

    /** The compact wire form of an event, with the same escaping as the canonical form. */
    public static String write(Event e) {
        StringBuilder sb = new StringBuilder(256 + e.content().length());
        sb.append("{\"id\":\"").append(e.id())
          .append("\",\"pubkey\":\"").append(e.pubkey())
          .append("\",\"created_at\":").append(e.createdAt())
          .append(",\"kind\":").append(e.kind())
          .append(",\"tags\":");
        appendTags(sb, e.tags());
        sb.append(",\"content\":");
        appendQuoted(sb, e.content());
        sb.append(",\"sig\":\"").append(e.sig()).append("\"}");
        return sb.toString();
    }

    public static void appendTags(StringBuilder sb, List<List<String>> tags) {
        sb.append('[');
        for (int i = 0; i < tags.size(); i++) {
            if (i > 0) sb.append(',');
            List<String> tag = tags.get(i);
            sb.append('[');
            for (int j = 0; j < tag.size(); j++) {
                if (j > 0) sb.append(',');
                appendQuoted(sb, tag.get(j));
            }
            sb.append(']');
        }
        sb.append(']');
    }

    /** Appends {@code s} as a JSON string literal using the canonical escaping. */
    public static void appendQuoted(StringBuilder sb, String s) {
        sb.append('"');
        int n = s.length();
        for (int i = 0; i < n; i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> sb.append("\\\"");
                case '\\' -> sb.append("\\\\");
                case '\n' -> sb.append("\\n");
                case '\r' -> sb.append("\\r");
                case '\t' -> sb.append("\\t");
                case '\b' -> sb.append("\\b");
                case '\f' -> sb.append("\\f");
                default -> {
                    if (c < 0x20) {
                        appendUnicodeEscape(sb, c);
                    } else if (Character.isHighSurrogate(c)) {
                        if (i + 1 < n && Character.isLowSurrogate(s.charAt(i + 1))) {
                            sb.append(c).append(s.charAt(++i));
                        } else {
                            appendUnicodeEscape(sb, c);
                        }
                    } else if (Character.isLowSurrogate(c)) {
                        appendUnicodeEscape(sb, c);
                    } else {
                        sb.append(c);
                    }
                }
            }
        }
        sb.append('"');
    }

    private static void appendUnicodeEscape(StringBuilder sb, char c) {
        sb.append("\\u").append(HEX[(c >> 12) & 0xf]).append(HEX[(c >> 8) & 0xf]).append(HEX[(c >> 4) & 0xf]).append(HEX[c & 0xf]);
    }

    /**
     * Reads one event object from a parser positioned on its START_OBJECT, checking field types,
     * hex lengths, kind range and that the id is the hash of the content. The signature is NOT
     * checked here: that is the expensive part and runs on the verifier threads.
     */
    public static Event parse(JsonParser p, ProtocolLimits limits) throws IOException, InvalidEventException {
        if (p.currentToken() != JsonToken.START_OBJECT) throw new InvalidEventException(null, "event must be a JSON object");
        String id = null, pubkey = null, sig = null, content = null;
        Long createdAt = null;
        Integer kind = null;
        List<List<String>> tags = null;
        while (p.nextToken() == JsonToken.FIELD_NAME) {
            String field = p.currentName();
            JsonToken t = p.nextToken();
            switch (field) {
                case "id" -> id = string(p, t, id, "id");
                case "pubkey" -> pubkey = string(p, t, id, "pubkey");
                case "sig" -> sig = string(p, t, id, "sig");
                case "content" -> content = string(p, t, id, "content");
                case "created_at" -> createdAt = integer(p, t, id, "created_at");
                case "kind" -> {
                    long k = integer(p, t, id, "kind");
                    if (!Kinds.isValid(k)) throw new InvalidEventException(id, "kind must be an integer between 0 and " + Kinds.MAX);
                    kind = (int) k;
                }
                case "tags" -> tags = tags(p, t, id, limits);
                default -> p.skipChildren();
            }
        }
        if (id == null) throw new InvalidEventException(null, "missing id");
        if (!Hex.isLowerHex(id, 32)) throw new InvalidEventException(id, "id must be 64 lowercase hex characters");
        if (pubkey == null) throw new InvalidEventException(id, "missing pubkey");
        if (!Hex.isLowerHex(pubkey, 32)) throw new InvalidEventException(id, "pubkey must be 64 lowercase hex characters");
        if (sig == null) throw new InvalidEventException(id, "missing sig");
        if (!Hex.isLowerHex(sig, 64)) throw new InvalidEventException(id, "sig must be 128 lowercase hex characters");
        if (createdAt == null) throw new InvalidEventException(id, "missing created_at");
        if (createdAt < 0) throw new InvalidEventException(id, "created_at must not be negative");
        if (kind == null) throw new InvalidEventException(id, "missing kind");
        if (tags == null) throw new InvalidEventException(id, "missing tags");
        if (content == null) throw new InvalidEventException(id, "missing content");
        if (content.length() > limits.maxContentLength()) {
            throw new InvalidEventException(id, "content is longer than " + limits.maxContentLength() + " characters");
        }
        String computed = computeId(pubkey, createdAt, kind, tags, content);
        if (!computed.equals(id)) throw new InvalidEventException(id, "event id does not match the hash of its content");
        return new Event(id, pubkey, createdAt, kind, tags, content, sig);
    }

    private static String string(JsonParser p, JsonToken t, String id, String field) throws IOException, InvalidEventException {
        if (t != JsonToken.VALUE_STRING) throw new InvalidEventException(id, field + " must be a string");
        return p.getText();
    }

    private static long integer(JsonParser p, JsonToken t, String id, String field) throws IOException, InvalidEventException {
        if (t != JsonToken.VALUE_NUMBER_INT || p.getNumberType() == JsonParser.NumberType.BIG_INTEGER) {
            throw new InvalidEventException(id, field + " must be an integer");
        }
        return p.getLongValue();
    }

    private static List<List<String>> tags(JsonParser p, JsonToken t, String id, ProtocolLimits limits)
            throws IOException, InvalidEventException {
        if (t != JsonToken.START_ARRAY) throw new InvalidEventException(id, "tags must be an array");
        List<List<String>> tags = new ArrayList<>();
        while ((t = p.nextToken()) != JsonToken.END_ARRAY) {
            if (t != JsonToken.START_ARRAY) throw new InvalidEventException(id, "each tag must be an array of strings");
            if (tags.size() >= limits.maxEventTags()) {
                throw new InvalidEventException(id, "too many tags (max " + limits.maxEventTags() + ")");
            }
            List<String> tag = new ArrayList<>(4);
            while ((t = p.nextToken()) != JsonToken.END_ARRAY) {
                if (t != JsonToken.VALUE_STRING) throw new InvalidEventException(id, "each tag must be an array of strings");
                tag.add(p.getText());
            }
            tags.add(Collections.unmodifiableList(tag));
        }
        return Collections.unmodifiableList(tags);
    }
}
