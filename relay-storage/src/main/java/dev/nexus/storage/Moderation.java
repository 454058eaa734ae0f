package dev.nexus.storage;

/**
 * The operator's moderation state (NIP-86) as the store keeps it: one row per
 * (category, value), with the reason the operator gave. Categories are the relay's business
 * (banned pubkeys, blocked IPs, relay name overrides...); one is the store's own:
 * {@link #BANNED_EVENT}, whose ids are deleted and never stored again.
 */
public final class Moderation {
    /** An event id the operator banned: deleted when banned, refused by every later write. */
    public static final String BANNED_EVENT = "banned_event";

    private Moderation() {}

    public record Entry(String category, String value, String reason) {}

    /** ADD inserts (or replaces the reason of) a row, REMOVE deletes one, SET makes it the category's only row. */
    public enum Change { ADD, REMOVE, SET }
}
