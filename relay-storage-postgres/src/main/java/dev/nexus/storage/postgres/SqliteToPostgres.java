package dev.nexus.storage.postgres;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import dev.nexus.core.Event;
import dev.nexus.core.EventJson;
import dev.nexus.core.ProtocolLimits;
import dev.nexus.storage.WriteResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * Moves a SQLite relay's data into a PostgreSQL store: the NIP-09 state first (so nothing deleted
 * can slip back in), then every event oldest first through {@link PostgresEventStore#write}, which
 * applies the same rules as a live write (retention is recomputed from the current config). Run it
 * with the SQLite relay stopped; running it twice is harmless (duplicates are refused).
 */
public final class SqliteToPostgres {
    /** What was copied: events stored, events refused (duplicates, superseded versions), tombstones. */
    public record Copied(long stored, long refused, long tombstones) {}

    private SqliteToPostgres() {}

    public static Copied copy(Path sqliteFile, PostgresEventStore target) throws SQLException {
        if (!Files.isRegularFile(sqliteFile)) throw new SQLException("no SQLite database at " + sqliteFile);
        PostgresLocation pg = target.location();
        long tombstones = 0, stored = 0, refused = 0;
        org.sqlite.SQLiteConfig readOnly = new org.sqlite.SQLiteConfig();
        readOnly.setReadOnly(true);
        try (Connection from = readOnly.createConnection("jdbc:sqlite:" + sqliteFile.toAbsolutePath());
             Connection to = DriverManager.getConnection(pg.jdbcUrl(), pg.properties())) {
            try (Statement s = from.createStatement();
                 ResultSet rs = s.executeQuery("SELECT id, pubkey FROM deleted_event");
                 PreparedStatement ins = to.prepareStatement("INSERT INTO deleted_event (id, pubkey) VALUES (?, ?) ON CONFLICT DO NOTHING")) {
                while (rs.next()) {
                    ins.setString(1, rs.getString(1));
                    ins.setString(2, rs.getString(2));
                    ins.addBatch();
                    tombstones++;
                }
                ins.executeBatch();
            }
            try (Statement s = from.createStatement();
                 ResultSet rs = s.executeQuery("SELECT kind, pubkey, d_tag, until FROM deleted_address");
                 PreparedStatement ins = to.prepareStatement("INSERT INTO deleted_address (kind, pubkey, d_tag, until) VALUES (?, ?, ?, ?) "
                         + "ON CONFLICT (kind, pubkey, d_tag) DO UPDATE SET until = GREATEST(deleted_address.until, excluded.until)")) {
                while (rs.next()) {
                    ins.setInt(1, rs.getInt(1));
                    ins.setString(2, rs.getString(2));
                    ins.setString(3, rs.getString(3));
                    ins.setLong(4, rs.getLong(4));
                    ins.addBatch();
                    tombstones++;
                }
                ins.executeBatch();
            }
            JsonFactory json = new JsonFactory();
            ProtocolLimits any = new ProtocolLimits(Integer.MAX_VALUE, Integer.MAX_VALUE, 1, 64, 1);
            List<CompletableFuture<WriteResult>> inFlight = new ArrayList<>();
            try (Statement s = from.createStatement(); ResultSet rs = s.executeQuery("SELECT raw FROM event ORDER BY seq")) {
                while (rs.next()) {
                    Event e;
                    try (JsonParser p = json.createParser(rs.getString(1))) {
                        p.nextToken();
                        e = EventJson.parse(p, any);
                    } catch (Exception ex) {
                        throw new SQLException("unreadable event in " + sqliteFile + ": " + ex.getMessage(), ex);
                    }
                    inFlight.add(target.write(e));
                    if (inFlight.size() == 1000) {
                        for (CompletableFuture<WriteResult> f : inFlight) if (countsAsStored(f.join())) stored++; else refused++;
                        inFlight.clear();
                    }
                }
            }
            for (CompletableFuture<WriteResult> f : inFlight) if (countsAsStored(f.join())) stored++; else refused++;
        }
        return new Copied(stored, refused, tombstones);
    }

    private static boolean countsAsStored(WriteResult r) {
        return r.isNew();
    }
}
