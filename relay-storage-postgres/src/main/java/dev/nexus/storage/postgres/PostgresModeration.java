package dev.nexus.storage.postgres;

import dev.nexus.storage.Moderation;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;

/** The PostgreSQL statements of a NIP-86 moderation change, inside the caller's transaction. */
final class PostgresModeration {
    private PostgresModeration() {}

    /** Records the change; a banned event is deleted with it (its tags go by ON DELETE CASCADE). */
    static void apply(Connection c, Moderation.Change change, Moderation.Entry entry) throws SQLException {
        if (change == Moderation.Change.SET) {
            try (PreparedStatement ps = c.prepareStatement("DELETE FROM moderation WHERE category = ?")) {
                ps.setString(1, entry.category());
                ps.executeUpdate();
            }
        }
        if (change == Moderation.Change.REMOVE) {
            try (PreparedStatement ps = c.prepareStatement("DELETE FROM moderation WHERE category = ? AND value = ?")) {
                ps.setString(1, entry.category());
                ps.setString(2, entry.value());
                ps.executeUpdate();
            }
        } else {
            try (PreparedStatement ps = c.prepareStatement("INSERT INTO moderation (category, value, reason) VALUES (?, ?, ?) "
                    + "ON CONFLICT (category, value) DO UPDATE SET reason = excluded.reason")) {
                ps.setString(1, entry.category());
                ps.setString(2, entry.value());
                ps.setString(3, entry.reason() == null ? "" : entry.reason());
                ps.executeUpdate();
            }
        }
        boolean bansEvent = entry.category().equals(Moderation.BANNED_EVENT);
        if (bansEvent && change != Moderation.Change.REMOVE) {
            try (PreparedStatement ps = c.prepareStatement("DELETE FROM event WHERE id = ?")) {
                ps.setString(1, entry.value());
                ps.executeUpdate();
            }
        }
    }
}
