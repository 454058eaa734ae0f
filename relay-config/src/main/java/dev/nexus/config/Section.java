package dev.nexus.config;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.nexus.core.KindRanges;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Set;

/** Typed, key-tracking access to one TOML table, so that unknown keys can be reported by name. */
final class Section {
    private final String name;
    private final ObjectNode node;
    private final Set<String> read = new HashSet<>();

    Section(String name, ObjectNode node) {
        this.name = name;
        this.node = node;
    }

    String key(String key) {
        return "[" + name + "]." + key;
    }

    private JsonNode take(String key) {
        read.add(key);
        return node == null ? null : node.get(key);
    }

    String string(String key, String def) throws ConfigException {
        JsonNode v = take(key);
        if (v == null) return def;
        if (!v.isTextual()) throw new ConfigException(key(key) + " must be a string");
        return v.asText();
    }

    boolean bool(String key, boolean def) throws ConfigException {
        JsonNode v = take(key);
        if (v == null) return def;
        if (!v.isBoolean()) throw new ConfigException(key(key) + " must be true or false");
        return v.asBoolean();
    }

    long integer(String key, long def, long min, long max) throws ConfigException {
        JsonNode v = take(key);
        if (v == null) return def;
        if (!v.isIntegralNumber()) throw new ConfigException(key(key) + " must be an integer");
        long value = v.asLong();
        if (value < min || value > max) throw new ConfigException(key(key) + " must be between " + min + " and " + max + ", got " + value);
        return value;
    }

    int integer(String key, int def, int min, int max) throws ConfigException {
        return (int) integer(key, (long) def, min, max);
    }

    double number(String key, double def, double min, double max) throws ConfigException {
        JsonNode v = take(key);
        if (v == null) return def;
        if (!v.isNumber()) throw new ConfigException(key(key) + " must be a number");
        double value = v.asDouble();
        if (value < min || value > max) throw new ConfigException(key(key) + " must be between " + min + " and " + max + ", got " + value);
        return value;
    }

    List<String> strings(String key, List<String> def) throws ConfigException {
        JsonNode v = take(key);
        if (v == null) return def;
        if (!v.isArray()) throw new ConfigException(key(key) + " must be an array of strings");
        List<String> out = new ArrayList<>();
        for (JsonNode item : v) {
            if (!item.isTextual()) throw new ConfigException(key(key) + " must be an array of strings");
            out.add(item.asText());
        }
        return List.copyOf(out);
    }

    List<Integer> integers(String key, List<Integer> def, int min, int max) throws ConfigException {
        JsonNode v = take(key);
        if (v == null) return def;
        if (!v.isArray()) throw new ConfigException(key(key) + " must be an array of integers");
        List<Integer> out = new ArrayList<>();
        for (JsonNode item : v) {
            if (!item.isIntegralNumber() || item.asLong() < min || item.asLong() > max) {
                throw new ConfigException(key(key) + " must be an array of integers between " + min + " and " + max);
            }
            out.add(item.asInt());
        }
        return List.copyOf(out);
    }

    /** Kinds and kind ranges: {@code [25910, "5000-5999", "68001"]}. */
    KindRanges kindRanges(String key, KindRanges def) throws ConfigException {
        JsonNode v = take(key);
        if (v == null) return def;
        if (!v.isArray()) throw new ConfigException(key(key) + " must be an array of kinds and ranges, e.g. [\"5000-5999\", 68001]");
        List<String> specs = new ArrayList<>();
        for (JsonNode item : v) {
            if (item.isIntegralNumber() || item.isTextual()) specs.add(item.asText());
            else throw new ConfigException(key(key) + " must be an array of kinds and ranges, e.g. [\"5000-5999\", 68001]");
        }
        try {
            return KindRanges.parse(specs);
        } catch (IllegalArgumentException e) {
            throw new ConfigException(key(key) + ": " + e.getMessage());
        }
    }

    /** An array of tables ({@code [[name.key]]}), each as a section of its own. */
    List<Section> tables(String key) throws ConfigException {
        JsonNode v = take(key);
        if (v == null) return List.of();
        if (!v.isArray()) throw new ConfigException(key(key) + " must be an array of tables ([[" + name + "." + key + "]])");
        List<Section> out = new ArrayList<>();
        int i = 0;
        for (JsonNode item : v) {
            if (!item.isObject()) throw new ConfigException(key(key) + " must be an array of tables ([[" + name + "." + key + "]])");
            out.add(new Section(name + "." + key + "][" + i++, (ObjectNode) item));
        }
        return out;
    }

    /** The raw value, for keys that accept more than one type. */
    JsonNode raw(String key) {
        return take(key);
    }

    void rejectUnknownKeys() throws ConfigException {
        if (node == null) return;
        for (Iterator<String> it = node.fieldNames(); it.hasNext(); ) {
            String k = it.next();
            if (!read.contains(k)) throw new ConfigException("unknown key " + key(k));
        }
    }
}
