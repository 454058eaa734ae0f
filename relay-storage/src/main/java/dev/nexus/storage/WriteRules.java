package dev.nexus.storage;

import dev.nexus.core.Event;
import dev.nexus.core.Kinds;
import java.sql.SQLException;
import java.util.List;

/**
 * The storage rules of NIP-01, NIP-09 and NIP-40, once for every backend: operator bans, duplicates,
 * tombstones, replaceable and addressable replacement (newest wins, lowest id on equal
 * created_at), deletions by {@code e} and {@code a} tags limited to the deleter's own events, and
 * the time an event stops being served ({@link RetentionPolicy}: NIP-40 and marketplace retention).
 * A backend supplies one {@link StoreTransaction} per batch and commits after the batch.
 */
public final class WriteRules {
    private final RetentionPolicy retention;

    public WriteRules(RetentionPolicy retention) {
        this.retention = retention;
    }

    public RetentionPolicy retention() {
        return retention;
    }

    /** Applies the rules to one event inside {@code tx}; the answer counts only once tx commits. */
    public WriteResult apply(StoreTransaction tx, Event e) throws SQLException {
        if (tx.isBanned(e.id())) return WriteResult.blocked("this event was banned by the relay operator");
        String unstorable = tx.unstorable(e);
        if (unstorable != null) return WriteResult.invalid(unstorable);
        // A duplicate is found by the insert itself (one probe of the id index, not two). Only the
        // steps before it that would act differently on a stored event ask first: a deletion applies
        // its tags only once, and an event can be stored and tombstoned at once (a deletion of a deletion).
        int kind = e.kind();
        boolean tombstoned = tx.isTombstoned(e.id(), e.pubkey());
        if ((kind == Kinds.DELETION || tombstoned) && tx.contains(e.id())) return WriteResult.ALREADY_STORED;
        if (tombstoned) return WriteResult.blocked("this event was deleted by its author");
        String dTag = null;
        if (Kinds.isReplaceable(kind) || Kinds.isAddressable(kind)) {
            dTag = Kinds.isAddressable(kind) ? e.dTag() : "";
            if (Kinds.isAddressable(kind)) {
                Long until = tx.addressDeletedUntil(kind, e.pubkey(), dTag);
                if (until != null && e.createdAt() <= until) return WriteResult.blocked("this address was deleted by its author");
            }
            List<StoreTransaction.Version> versions = tx.versions(e.pubkey(), kind, dTag);
            for (StoreTransaction.Version old : versions) {
                if (old.id().equals(e.id())) return WriteResult.ALREADY_STORED;
            }
            for (StoreTransaction.Version old : versions) {
                if (!supersedes(e, old)) return WriteResult.olderThanStored("a newer version of this replaceable event is already stored");
            }
            for (StoreTransaction.Version old : versions) tx.delete(old);
        }
        if (kind == Kinds.DELETION) applyDeletion(tx, e);
        return tx.insert(e, dTag, retention.expiresAt(e)) ? WriteResult.STORED : WriteResult.ALREADY_STORED;
    }

    /** NIP-01: the newest version wins; on equal created_at the lowest id wins. */
    static boolean supersedes(Event e, StoreTransaction.Version old) {
        return e.createdAt() > old.createdAt() || (e.createdAt() == old.createdAt() && e.id().compareTo(old.id()) < 0);
    }

    /** NIP-09: removes only the deleter's own events, and remembers them so they cannot come back. */
    private static void applyDeletion(StoreTransaction tx, Event deletion) throws SQLException {
        for (List<String> tag : deletion.tags()) {
            if (tag.size() < 2) continue;
            String name = tag.get(0), value = tag.get(1);
            if (name.equals("e")) {
                tx.deleteOwnEvent(value, deletion.pubkey());
                tx.tombstone(value, deletion.pubkey());
            } else if (name.equals("a")) {
                String[] parts = value.split(":", 3);
                if (parts.length < 3 || !parts[1].equals(deletion.pubkey())) continue;
                int kind;
                try {
                    kind = Integer.parseInt(parts[0]);
                } catch (NumberFormatException ex) {
                    continue;
                }
                if (!Kinds.isAddressable(kind) && !Kinds.isReplaceable(kind)) continue;
                String dTag = Kinds.isAddressable(kind) ? parts[2] : "";
                tx.deleteAddress(kind, deletion.pubkey(), dTag, deletion.createdAt());
            }
        }
    }
}
