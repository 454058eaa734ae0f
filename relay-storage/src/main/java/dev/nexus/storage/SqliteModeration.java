package dev.nexus.storage;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;

/** The SQLite statements of a NIP-86 moderation change, inside the writer's transaction. */
final class SqliteModeration {
    private SqliteModeration() {}

    /** Records the change; returns the row key of the event a new ban must delete, or null. */
    static Long apply(Connection connection, Moderation.Change change, Moderation.Entry entry) throws SQLException {
        if (change == Moderation.Change.SET) {
            try (PreparedStatement ps = connection.prepareStatement("DELETE FROM moderation WHERE category = ?")) {
                ps.setString(1, entry.category());
                ps.executeUpdate();
            }
        }
        if (change == Moderation.Change.REMOVE) {
            try (PreparedStatement ps = connection.prepareStatement("DELETE FROM moderation WHERE category = ? AND value = ?")) {
                ps.setString(1, entry.category());
                ps.setString(2, entry.value());
                ps.executeUpdate();
            }
        } else {
            try (PreparedStatement ps = connection.prepareStatement("INSERT OR REPLACE INTO moderation (category, value, reason) VALUES (?, ?, ?)")) {
                ps.setString(1, entry.category());
                ps.setString(2, entry.value());
                ps.setString(3, entry.reason() == null ? "" : entry.reason());
                ps.executeUpdate();
            }
        }
        if (!entry.category().equals(Moderation.BANNED_EVENT) || change == Moderation.Change.REMOVE) return null;
        try (PreparedStatement ps = connection.prepareStatement("SELECT seq FROM event WHERE id = ?")) {
            ps.setString(1, entry.value());
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? rs.getLong(1) : null;
            }
        }
    }
}
