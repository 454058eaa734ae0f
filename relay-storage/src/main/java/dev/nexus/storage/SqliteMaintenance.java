package dev.nexus.storage;

import dev.nexus.core.Filter;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.sqlite.SQLiteConfig;

/**
 * The operator's side of a SQLite store, for the admin CLI: a streaming export, deletion by
 * filter, compaction and statistics, on a connection of its own. Export and stats only read, so
 * WAL lets them run beside a live relay; delete takes the write lock for one transaction;
 * compact rewrites the file and should run with the relay stopped.
 */
public final class SqliteMaintenance implements AutoCloseable {
    /** A kind class, as stats reports it. */
    public static final String[] KIND_CLASSES = {
        "regular", "replaceable", "ephemeral", "addressable", "job_request", "job_result", "job_feedback", "deletion"
    };

    public record Stats(Map<String, Long> countsByKindClass, long total, Long oldestCreatedAt, Long newestCreatedAt,
                        long expiringSoon, long expiredAwaitingSweep, long tombstones, long bytesOnDisk) {}

    private final Path file;
    private final Connection connection;

    private SqliteMaintenance(Path file, Connection connection) {
        this.file = file;
        this.connection = connection;
    }

    /** Opens an existing store; read-only when {@code readOnly}. Fails if there is no database at {@code file}. */
    public static SqliteMaintenance open(Path file, boolean readOnly) {
        if (!Files.isRegularFile(file)) throw new StoreException("no database at " + file.toAbsolutePath(), null);
        try {
            SQLiteConfig config = new SQLiteConfig();
            config.setBusyTimeout(10000);
            config.setReadOnly(readOnly);
            Connection c = config.createConnection("jdbc:sqlite:" + file.toAbsolutePath());
            try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("PRAGMA user_version")) {
                int version = rs.next() ? rs.getInt(1) : 0;
                if (version == 0) throw new SQLException(file + " is not a Nexus database (schema version 0)");
                if (version > SqliteSchema.VERSION) {
                    throw new SQLException("database schema version " + version + " is newer than this relay understands (" + SqliteSchema.VERSION + ")");
                }
            } catch (SQLException e) {
                c.close();
                throw e;
            }
            return new SqliteMaintenance(file, c);
        } catch (SQLException e) {
            throw new StoreException("cannot open " + file + ": " + e.getMessage(), e);
        }
    }

    /** Receives each exported event's wire JSON (UTF-8); returns false to stop. */
    public interface EventSink {
        void accept(byte[] json) throws IOException;
    }

    /**
     * Streams every stored, unexpired event matching {@code filter} (its limit is ignored), oldest
     * first, row by row from a cursor: memory stays constant however large the store.
     */
    public long export(Filter filter, long nowSeconds, EventSink sink) throws IOException {
        if (filter.matchesNothing()) return 0;
        FilterQuery q = FilterQuery.rawOf(filter, nowSeconds);
        long n = 0;
        try (PreparedStatement ps = connection.prepareStatement(q.sql())) {
            SqliteQueries.bind(ps, q.params());
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    sink.accept(rs.getBytes(1));
                    n++;
                }
            }
        } catch (SQLException e) {
            throw new StoreException("export failed: " + e.getMessage(), e);
        }
        return n;
    }

    /** Writes each event as one line of JSON (JSONL). */
    public static EventSink jsonLines(OutputStream out) {
        return json -> {
            out.write(json);
            out.write('\n');
        };
    }

    /** How many stored, unexpired events match {@code filter}. */
    public long count(Filter filter, long nowSeconds) {
        if (filter.matchesNothing()) return 0;
        FilterQuery q = FilterQuery.idsOf(filter, nowSeconds);
        try (PreparedStatement ps = connection.prepareStatement("SELECT COUNT(*) FROM (" + q.sql() + ")")) {
            SqliteQueries.bind(ps, q.params());
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? rs.getLong(1) : 0;
            }
        } catch (SQLException e) {
            throw new StoreException("count failed: " + e.getMessage(), e);
        }
    }

    /** Deletes the tag rows of the events in the temp table {@code doomed}, by their keys (see {@link TagKeys}). */
    private static void deleteTagRows(Connection connection) throws SQLException {
        try (Statement events = connection.createStatement();
             ResultSet rs = events.executeQuery("SELECT e.seq, e.kind, e.created_at, e.raw FROM doomed d JOIN event e ON e.seq = d.seq");
             PreparedStatement byKey = connection.prepareStatement(TagKeys.DELETE_BY_KEY);
             PreparedStatement byScan = connection.prepareStatement(TagKeys.DELETE_BY_SCAN)) {
            while (rs.next()) TagKeys.deleteRows(byKey, byScan, rs.getLong(1), rs.getInt(2), rs.getLong(3), rs.getString(4));
        }
    }

    /**
     * Removes the stored, unexpired events matching {@code filter}, with their tags, in one
     * transaction; returns how many. No tombstone is left: an author may publish them again.
     */
    public long delete(Filter filter, long nowSeconds) {
        if (filter.matchesNothing()) return 0;
        FilterQuery q = FilterQuery.idsOf(filter, nowSeconds);
        try {
            connection.setAutoCommit(false);
            try (Statement s = connection.createStatement()) {
                s.execute("CREATE TEMP TABLE doomed (seq INTEGER PRIMARY KEY)");
            }
            try (PreparedStatement ps = connection.prepareStatement(
                    "INSERT INTO doomed (seq) SELECT seq FROM event WHERE id IN (" + q.sql() + ")")) {
                SqliteQueries.bind(ps, q.params());
                ps.executeUpdate();
            }
            deleteTagRows(connection);
            long removed;
            try (Statement s = connection.createStatement()) {
                removed = s.executeUpdate("DELETE FROM event WHERE seq IN (SELECT seq FROM doomed)");
                s.execute("DROP TABLE doomed");
            }
            connection.commit();
            return removed;
        } catch (SQLException e) {
            try {
                connection.rollback();
            } catch (SQLException ignored) {
                // reported below
            }
            throw new StoreException("delete failed: " + e.getMessage(), e);
        } finally {
            try {
                connection.setAutoCommit(true);
            } catch (SQLException ignored) {
                // the connection is closed by the caller next
            }
        }
    }

    /** Copies the WAL into the database and truncates it, rebuilds the file (VACUUM), and truncates the WAL again. */
    public void compact() {
        try (Statement s = connection.createStatement()) {
            checkpointTruncate(s);
            s.execute("VACUUM");
            checkpointTruncate(s);
        } catch (SQLException e) {
            throw new StoreException("compact failed: " + e.getMessage(), e);
        }
    }

    private static void checkpointTruncate(Statement s) throws SQLException {
        try (ResultSet rs = s.executeQuery("PRAGMA wal_checkpoint(TRUNCATE)")) {
            if (rs.next() && rs.getInt(1) != 0) {
                throw new SQLException("the WAL checkpoint was blocked by another connection (is the relay running?)");
            }
        }
    }

    public Stats stats(long nowSeconds, long soonSeconds) {
        Map<String, Long> byClass = new LinkedHashMap<>();
        for (String c : KIND_CLASSES) byClass.put(c, 0L);
        long total = 0;
        String classOf = """
                CASE WHEN kind = 5 THEN 'deletion'
                     WHEN kind BETWEEN 5000 AND 5999 THEN 'job_request'
                     WHEN kind BETWEEN 6000 AND 6999 THEN 'job_result'
                     WHEN kind = 7000 THEN 'job_feedback'
                     WHEN kind IN (0, 3) OR kind BETWEEN 10000 AND 19999 THEN 'replaceable'
                     WHEN kind BETWEEN 20000 AND 29999 THEN 'ephemeral'
                     WHEN kind BETWEEN 30000 AND 39999 THEN 'addressable'
                     ELSE 'regular' END""";
        try (Statement s = connection.createStatement()) {
            try (ResultSet rs = s.executeQuery("SELECT " + classOf + " AS c, COUNT(*) FROM event GROUP BY c")) {
                while (rs.next()) {
                    byClass.put(rs.getString(1), rs.getLong(2));
                    total += rs.getLong(2);
                }
            }
            Long oldest = null, newest = null;
            try (ResultSet rs = s.executeQuery("SELECT MIN(created_at), MAX(created_at) FROM event")) {
                if (rs.next()) {
                    long min = rs.getLong(1);
                    if (!rs.wasNull()) oldest = min;
                    long max = rs.getLong(2);
                    if (!rs.wasNull()) newest = max;
                }
            }
            long soon = scalar("SELECT COUNT(*) FROM event WHERE expires_at > " + nowSeconds + " AND expires_at <= " + (nowSeconds + soonSeconds));
            long expired = scalar("SELECT COUNT(*) FROM event WHERE expires_at IS NOT NULL AND expires_at <= " + nowSeconds);
            long tombstones = scalar("SELECT (SELECT COUNT(*) FROM deleted_event) + (SELECT COUNT(*) FROM deleted_address)");
            return new Stats(byClass, total, oldest, newest, soon, expired, tombstones, bytesOnDisk());
        } catch (SQLException e) {
            throw new StoreException("stats failed: " + e.getMessage(), e);
        }
    }

    /** The database file plus its WAL and shared-memory files. */
    public long bytesOnDisk() {
        long bytes = 0;
        for (String suffix : List.of("", "-wal", "-shm")) {
            try {
                Path p = Path.of(file.toAbsolutePath() + suffix);
                if (Files.exists(p)) bytes += Files.size(p);
            } catch (IOException ignored) {
                // a WAL removed between exists() and size() adds nothing
            }
        }
        return bytes;
    }

    private long scalar(String sql) throws SQLException {
        try (Statement s = connection.createStatement(); ResultSet rs = s.executeQuery(sql)) {
            return rs.next() ? rs.getLong(1) : 0;
        }
    }


    @Override
    public void close() {
        try {
            connection.close();
        } catch (SQLException e) {
            throw new StoreException("closing " + file + ": " + e.getMessage(), e);
        }
    }
}
