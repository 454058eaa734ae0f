package dev.nexus.core;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.StreamReadConstraints;
import java.io.IOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Parses one client frame with Jackson's streaming parser (no tree, no data binding: this runs
 * for every frame on the I/O threads). Three failure classes map to the three NIP-01 answers:
 * {@link MalformedMessageException} to NOTICE, {@link InvalidEventException} to OK false,
 * {@link InvalidFilterException} to CLOSED.
 */
public final class ClientMessageParser {
    private static final JsonFactory JSON = JsonFactory.builder()
            .streamReadConstraints(StreamReadConstraints.builder().maxNestingDepth(16).build())
            .build();

    private final ProtocolLimits limits;

    public ClientMessageParser(ProtocolLimits limits) {
        this.limits = limits;
    }

    public ClientMessage parse(byte[] utf8, int offset, int length)
            throws MalformedMessageException, InvalidEventException, InvalidFilterException {
        try (JsonParser p = JSON.createParser(utf8, offset, length)) {
            return parse(p);
        } catch (JsonProcessingException e) {
            throw refusal(utf8, offset, length, "malformed JSON: " + e.getOriginalMessage());
        } catch (IOException e) {
            throw refusal(utf8, offset, length, "unreadable message");
        } catch (MalformedMessageException e) {
            throw refusal(utf8, offset, length, e.getMessage().startsWith("invalid: ") ? e.getMessage().substring(9) : e.getMessage());
        } catch (InvalidEventException e) {
            if (e.eventId() != null) throw e;
            String id = EventIdScanner.scan(utf8, offset, length);
            throw new InvalidEventException(id, e.getMessage());
        }
    }

    /**
     * Every EVENT gets an OK: a frame the parser gave up on is still answered as an invalid event
     * when its event id can be read, and as a NOTICE only when it cannot.
     */
    private static MalformedMessageException refusal(byte[] utf8, int offset, int length, String reason) throws InvalidEventException {
        String id = EventIdScanner.scan(utf8, offset, length);
        if (id != null) throw new InvalidEventException(id, reason);
        return new MalformedMessageException("invalid: " + reason);
    }

    public ClientMessage parse(String text) throws MalformedMessageException, InvalidEventException, InvalidFilterException {
        byte[] utf8 = text.getBytes(java.nio.charset.StandardCharsets.UTF_8);
        return parse(utf8, 0, utf8.length);
    }

    private ClientMessage parse(JsonParser p)
            throws IOException, MalformedMessageException, InvalidEventException, InvalidFilterException {
        if (p.nextToken() != JsonToken.START_ARRAY) throw new MalformedMessageException("invalid: message must be a JSON array");
        if (p.nextToken() != JsonToken.VALUE_STRING) throw new MalformedMessageException("invalid: message must start with a verb string");
        String verb = p.getText();
        ClientMessage message = switch (verb) {
            case "EVENT" -> new ClientMessage.Publish(singleEvent(p, "EVENT"));
            case "AUTH" -> new ClientMessage.Authenticate(singleEvent(p, "AUTH"));
            case "REQ" -> {
                String subId = subscriptionId(p, verb);
                yield new ClientMessage.Subscribe(subId, filters(p, verb, subId));
            }
            case "COUNT" -> {
                String subId = subscriptionId(p, verb);
                yield new ClientMessage.Count(subId, filters(p, verb, subId));
            }
            case "CLOSE" -> unsubscribe(p);
            case "NEG-OPEN" -> negentropyOpen(p);
            case "NEG-MSG" -> {
                String subId = subscriptionId(p, verb);
                yield new ClientMessage.NegentropyMessage(subId, string(p, "NEG-MSG needs a hex message"));
            }
            case "NEG-CLOSE" -> {
                String subId = subscriptionId(p, verb);
                if (p.nextToken() != JsonToken.END_ARRAY) throw new MalformedMessageException("invalid: NEG-CLOSE takes exactly one subscription id");
                yield new ClientMessage.NegentropyClose(subId);
            }
            default -> throw new MalformedMessageException("invalid: unknown message type " + truncate(verb));
        };
        if (p.nextToken() != null) throw new MalformedMessageException("invalid: trailing data after message");
        return message;
    }

    private Event singleEvent(JsonParser p, String verb) throws IOException, MalformedMessageException, InvalidEventException {
        JsonToken t = p.nextToken();
        if (t == JsonToken.END_ARRAY) throw new MalformedMessageException("invalid: " + verb + " needs an event");
        if (t != JsonToken.START_OBJECT) throw new MalformedMessageException("invalid: " + verb + " needs an event object");
        Event event = EventJson.parse(p, limits);
        if (p.nextToken() != JsonToken.END_ARRAY) {
            throw new InvalidEventException(event.id(), verb + " takes exactly one event");
        }
        return event;
    }

    /** The filters after a REQ's or COUNT's subscription id, through the closing bracket. */
    private List<Filter> filters(JsonParser p, String verb, String subId)
            throws IOException, MalformedMessageException, InvalidFilterException {
        List<Filter> filters = new ArrayList<>();
        JsonToken t;
        while ((t = p.nextToken()) != JsonToken.END_ARRAY) {
            if (t == null) throw new MalformedMessageException("invalid: unterminated " + verb);
            if (t != JsonToken.START_OBJECT) throw new InvalidFilterException(subId, "invalid: each filter must be a JSON object");
            if (filters.size() >= limits.maxFilters()) {
                throw new InvalidFilterException(subId, "invalid: too many filters (max " + limits.maxFilters() + ")");
            }
            filters.add(filter(p, subId));
        }
        if (filters.isEmpty()) throw new InvalidFilterException(subId, "invalid: " + verb + " needs at least one filter");
        return filters;
    }

    private ClientMessage unsubscribe(JsonParser p) throws IOException, MalformedMessageException {
        String subId = subscriptionId(p, "CLOSE");
        if (p.nextToken() != JsonToken.END_ARRAY) throw new MalformedMessageException("invalid: CLOSE takes exactly one subscription id");
        return new ClientMessage.Unsubscribe(subId);
    }

    /** {@code ["NEG-OPEN", subId, filter, initialMessage]}: exactly one filter (NIP-77). */
    private ClientMessage negentropyOpen(JsonParser p) throws IOException, MalformedMessageException, InvalidFilterException {
        String subId = subscriptionId(p, "NEG-OPEN");
        if (p.nextToken() != JsonToken.START_OBJECT) throw new InvalidFilterException(subId, "invalid: NEG-OPEN needs one filter object", "NEG-OPEN");
        Filter filter;
        try {
            filter = filter(p, subId);
        } catch (InvalidFilterException e) {
            throw new InvalidFilterException(subId, e.getMessage(), "NEG-OPEN");
        }
        String message = string(p, "NEG-OPEN needs the initial message, hex-encoded, after the filter");
        return new ClientMessage.NegentropyOpen(subId, filter, message);
    }

    /** A string and then the message's closing bracket. */
    private static String string(JsonParser p, String missing) throws IOException, MalformedMessageException {
        if (p.nextToken() != JsonToken.VALUE_STRING) throw new MalformedMessageException("invalid: " + missing);
        String value = p.getText();
        if (p.nextToken() != JsonToken.END_ARRAY) throw new MalformedMessageException("invalid: " + missing + ", and nothing more");
        return value;
    }

    private String subscriptionId(JsonParser p, String verb) throws IOException, MalformedMessageException {
        if (p.nextToken() != JsonToken.VALUE_STRING) throw new MalformedMessageException("invalid: " + verb + " needs a subscription id string");
        String subId = p.getText();
        if (subId.isEmpty()) throw new MalformedMessageException("invalid: subscription id must not be empty");
        if (subId.length() > limits.maxSubscriptionIdLength()) {
            throw new MalformedMessageException("invalid: subscription id longer than " + limits.maxSubscriptionIdLength() + " characters");
        }
        return subId;
    }

    private Filter filter(JsonParser p, String subId) throws IOException, InvalidFilterException {
        Set<String> ids = null, authors = null;
        Set<Integer> kinds = null;
        Map<String, Set<String>> tags = null;
        Long since = null, until = null;
        Integer limit = null;
        while (p.nextToken() == JsonToken.FIELD_NAME) {
            String field = p.currentName();
            JsonToken t = p.nextToken();
            switch (field) {
                case "ids" -> ids = hexSet(p, t, subId, "ids");
                case "authors" -> authors = hexSet(p, t, subId, "authors");
                case "kinds" -> kinds = kindSet(p, t, subId);
                case "since" -> since = nonNegative(p, t, subId, "since");
                case "until" -> until = nonNegative(p, t, subId, "until");
                case "limit" -> limit = (int) Math.min(Integer.MAX_VALUE, nonNegative(p, t, subId, "limit"));
                default -> {
                    if (field.length() == 2 && field.charAt(0) == '#' && isAsciiLetter(field.charAt(1))) {
                        if (tags == null) tags = new HashMap<>();
                        tags.put(field.substring(1), stringSet(p, t, subId, field));
                    } else {
                        throw new InvalidFilterException(subId, "invalid: unsupported filter field " + truncate(field));
                    }
                }
            }
        }
        return new Filter(ids, authors, kinds, tags, since, until, limit);
    }

    private Set<String> hexSet(JsonParser p, JsonToken t, String subId, String field) throws IOException, InvalidFilterException {
        Set<String> values = stringSet(p, t, subId, field);
        for (String v : values) {
            if (!Hex.isLowerHex(v, 32)) throw new InvalidFilterException(subId, "invalid: " + field + " must be 64-character lowercase hex strings");
        }
        return values;
    }

    private Set<String> stringSet(JsonParser p, JsonToken t, String subId, String field) throws IOException, InvalidFilterException {
        if (t != JsonToken.START_ARRAY) throw new InvalidFilterException(subId, "invalid: " + field + " must be an array");
        Set<String> values = new HashSet<>();
        while ((t = p.nextToken()) != JsonToken.END_ARRAY) {
            if (t != JsonToken.VALUE_STRING) throw new InvalidFilterException(subId, "invalid: " + field + " must contain strings");
            if (values.size() >= limits.maxFilterValues()) {
                throw new InvalidFilterException(subId, "invalid: " + field + " has more than " + limits.maxFilterValues() + " values");
            }
            values.add(p.getText());
        }
        return values;
    }

    private Set<Integer> kindSet(JsonParser p, JsonToken t, String subId) throws IOException, InvalidFilterException {
        if (t != JsonToken.START_ARRAY) throw new InvalidFilterException(subId, "invalid: kinds must be an array");
        Set<Integer> values = new HashSet<>();
        while ((t = p.nextToken()) != JsonToken.END_ARRAY) {
            if (t != JsonToken.VALUE_NUMBER_INT || p.getNumberType() == JsonParser.NumberType.BIG_INTEGER || !Kinds.isValid(p.getLongValue())) {
                throw new InvalidFilterException(subId, "invalid: kinds must be integers between 0 and " + Kinds.MAX);
            }
            if (values.size() >= limits.maxFilterValues()) {
                throw new InvalidFilterException(subId, "invalid: kinds has more than " + limits.maxFilterValues() + " values");
            }
            values.add(p.getIntValue());
        }
        return values;
    }

    private static long nonNegative(JsonParser p, JsonToken t, String subId, String field) throws IOException, InvalidFilterException {
        if (t != JsonToken.VALUE_NUMBER_INT || p.getNumberType() == JsonParser.NumberType.BIG_INTEGER || p.getLongValue() < 0) {
            throw new InvalidFilterException(subId, "invalid: " + field + " must be a non-negative integer");
        }
        return p.getLongValue();
    }

    private static boolean isAsciiLetter(char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
    }

    private static String truncate(String s) {
        return s.length() <= 32 ? s : s.substring(0, 32) + "...";
    }
}
