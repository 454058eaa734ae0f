package dev.nexus.core;

import java.util.List;

/**
 * An immutable, already-validated Nostr event. {@link #json()} is its compact wire form, produced
 * once by {@link EventJson} and shared by the store and every subscriber it is sent to.
 */
public final class Event {
    private final String id;
    private final String pubkey;
    private final long createdAt;
    private final int kind;
    private final List<List<String>> tags;
    private final String content;
    private final String sig;
    private final String json;
    private byte[] jsonUtf8;

    public Event(String id, String pubkey, long createdAt, int kind, List<List<String>> tags, String content, String sig) {
        this.id = id;
        this.pubkey = pubkey;
        this.createdAt = createdAt;
        this.kind = kind;
        this.tags = tags;
        this.content = content;
        this.sig = sig;
        this.json = EventJson.write(this);
    }

    public String id() { return id; }
    public String pubkey() { return pubkey; }
    public long createdAt() { return createdAt; }
    public int kind() { return kind; }
    public List<List<String>> tags() { return tags; }
    public String content() { return content; }
    public String sig() { return sig; }
    public String json() { return json; }

    /** The wire form in UTF-8, encoded once and shared by every subscriber the event is sent to. */
    public byte[] jsonUtf8() {
        byte[] b = jsonUtf8;
        if (b == null) {
            b = json.getBytes(java.nio.charset.StandardCharsets.UTF_8);
            jsonUtf8 = b; // benign race: every thread computes the same bytes
        }
        return b;
    }

    /** The value of the first tag named {@code name}, or null. */
    public String firstTagValue(String name) {
        for (List<String> tag : tags) {
            if (tag.size() >= 2 && tag.get(0).equals(name)) return tag.get(1);
        }
        return null;
    }

    public boolean hasTag(String name) {
        for (List<String> tag : tags) {
            if (!tag.isEmpty() && tag.get(0).equals(name)) return true;
        }
        return false;
    }

    /** The `d` tag value addressable events are keyed by; an absent `d` tag counts as "". */
    public String dTag() {
        String d = firstTagValue("d");
        return d == null ? "" : d;
    }

    /** NIP-40 expiration timestamp, or null when the event carries none (or an unparseable one). */
    public Long expiration() {
        String v = firstTagValue("expiration");
        if (v == null) return null;
        try {
            return Long.parseLong(v.trim());
        } catch (NumberFormatException e) {
            return null;
        }
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Event other && other.id.equals(id);
    }

    @Override
    public int hashCode() {
        return id.hashCode();
    }

    @Override
    public String toString() {
        return json;
    }
}
