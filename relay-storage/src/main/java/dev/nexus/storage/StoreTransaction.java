package dev.nexus.storage;

import dev.nexus.core.Event;
import java.sql.SQLException;
import java.util.List;

/**
 * What {@link WriteRules} needs from one open write transaction of a backend: the few reads and
 * writes the NIP-01/09/40 rules are made of, in the backend's own dialect. Every method runs inside
 * the transaction; nothing is visible to readers before the backend commits.
 *
 * <p>The methods may throw {@link SQLException} because both durable backends are JDBC; a failure
 * fails the whole batch, which the backend answers with {@link WriteResult.Status#ERROR}.
 */
public interface StoreTransaction {

    /** A stored version of a replaceable or addressable event; {@code handle} is the backend's row key. */
    record Version(long handle, String id, long createdAt) {}

    /** Whether the relay operator banned this event id (NIP-86). */
    boolean isBanned(String id) throws SQLException;

    /** Why this backend cannot hold the event as it is (e.g. U+0000 in PostgreSQL text), or null. */
    default String unstorable(Event e) {
        return null;
    }

    /** Whether an event with this id is stored now. */
    boolean contains(String id) throws SQLException;

    /** Whether {@code pubkey} deleted this id with a NIP-09 {@code e} tag. */
    boolean isTombstoned(String id, String pubkey) throws SQLException;

    /** The created_at up to which {@code pubkey} deleted this address with a NIP-09 {@code a} tag, or null. */
    Long addressDeletedUntil(int kind, String pubkey, String dTag) throws SQLException;

    /** The stored versions of the address (kind, pubkey, d); replaceable kinds use the d tag "". */
    List<Version> versions(String pubkey, int kind, String dTag) throws SQLException;

    /** Removes one version returned by {@link #versions} (with its tags). */
    void delete(Version version) throws SQLException;

    /**
     * Inserts the event and its single-letter tags (each (name, value) once), unless an event with
     * its id is stored already: that is how {@link WriteRules} finds a duplicate, so a backend whose
     * insert probes the id anyway need not probe it twice.
     *
     * @param dTag      the address's d tag ("" for replaceable kinds), null for other kinds
     * @param expiresAt when the event stops being served, or null
     * @return whether the event was inserted (false: one with its id is stored)
     */
    boolean insert(Event e, String dTag, Long expiresAt) throws SQLException;

    /** Removes {@code pubkey}'s own event with this id, unless it is itself a deletion (kind 5). */
    void deleteOwnEvent(String id, String pubkey) throws SQLException;

    /** Remembers that {@code pubkey} deleted this id, so the event cannot be stored again. */
    void tombstone(String id, String pubkey) throws SQLException;

    /**
     * Removes the address's versions created at or before {@code until} and remembers the
     * deletion (keeping the later {@code until} when one is already recorded).
     */
    void deleteAddress(int kind, String pubkey, String dTag, long until) throws SQLException;
}
