package dev.nexus.storage.postgres;

import com.zaxxer.hikari.HikariDataSource;
import dev.nexus.core.Filter;
import dev.nexus.storage.EventStore;
import dev.nexus.storage.StoreException;
import dev.nexus.storage.StoredEvent;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;

/** The PostgreSQL store's reads, on the pool of read-only connections ({@link PostgresFilterQuery} builds the SQL). */
final class PostgresQueries {
    private final HikariDataSource readers;

    PostgresQueries(HikariDataSource readers) {
        this.readers = readers;
    }

    List<StoredEvent> query(Filter filter, int limit, long nowSeconds) {
        if (filter.matchesNothing() || limit <= 0) return List.of();
        PostgresFilterQuery q = PostgresFilterQuery.of(filter, limit, nowSeconds);
        try (Connection c = readers.getConnection(); PreparedStatement ps = c.prepareStatement(q.sql())) {
            PostgresFilterQuery.bind(c, ps, q.params());
            List<StoredEvent> out = new ArrayList<>(Math.min(limit, 64));
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) out.add(new StoredEvent(rs.getString(1), rs.getLong(2), rs.getBytes(3)));
            }
            return out;
        } catch (SQLException e) {
            throw new StoreException("query failed: " + e.getMessage(), e);
        }
    }

    int scanIdsAscending(Filter filter, long nowSeconds, int maxItems, EventStore.IdConsumer consumer) {
        if (filter.matchesNothing() || maxItems <= 0 || (filter.limit() != null && filter.limit() == 0)) return 0;
        PostgresFilterQuery q = PostgresFilterQuery.idsAscending(filter, maxItems, nowSeconds);
        try (Connection c = readers.getConnection()) {
            // The driver streams with a fetch size only inside a transaction; otherwise it buffers every row.
            c.setAutoCommit(false);
            try (PreparedStatement ps = c.prepareStatement(q.sql())) {
                PostgresFilterQuery.bind(c, ps, q.params());
                ps.setFetchSize(1024);
                int n = 0;
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        consumer.accept(rs.getLong(2), rs.getString(1));
                        n++;
                    }
                }
                return n;
            } finally {
                c.rollback();
                c.setAutoCommit(true);
            }
        } catch (SQLException e) {
            throw new StoreException("id scan failed: " + e.getMessage(), e);
        }
    }

    long count(List<Filter> filters, long nowSeconds) {
        List<String> selects = new ArrayList<>();
        List<Object> params = new ArrayList<>();
        for (Filter f : filters) {
            if (f.matchesNothing()) continue;
            PostgresFilterQuery q = PostgresFilterQuery.idsOf(f, nowSeconds);
            selects.add(q.sql());
            params.addAll(q.params());
        }
        if (selects.isEmpty()) return 0;
        // UNION (not UNION ALL): an event matched by two filters counts once.
        String sql = "SELECT count(*) FROM (" + String.join(" UNION ", selects) + ") AS matched";
        try (Connection c = readers.getConnection(); PreparedStatement ps = c.prepareStatement(sql)) {
            PostgresFilterQuery.bind(c, ps, params);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? rs.getLong(1) : 0;
            }
        } catch (SQLException e) {
            throw new StoreException("count failed: " + e.getMessage(), e);
        }
    }

    /** EXPLAIN for the statement {@link #query} would run (custom plan, parameters bound); for tests and operators. */
    List<String> explain(Filter filter, int limit, long nowSeconds) {
        PostgresFilterQuery q = PostgresFilterQuery.of(filter, limit, nowSeconds);
        try (Connection c = readers.getConnection(); PreparedStatement ps = c.prepareStatement("EXPLAIN " + q.sql())) {
            PostgresFilterQuery.bind(c, ps, q.params());
            List<String> out = new ArrayList<>();
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) out.add(rs.getString(1));
            }
            return out;
        } catch (SQLException e) {
            throw new StoreException("explain failed: " + e.getMessage(), e);
        }
    }

    boolean contains(String id) {
        try (Connection c = readers.getConnection(); PreparedStatement ps = c.prepareStatement("SELECT 1 FROM event WHERE id = ?")) {
            ps.setString(1, id);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next();
            }
        } catch (SQLException e) {
            throw new StoreException("lookup failed: " + e.getMessage(), e);
        }
    }

    List<dev.nexus.storage.Moderation.Entry> moderation() {
        try (Connection c = readers.getConnection()) {
            return readModeration(c);
        } catch (SQLException e) {
            throw new dev.nexus.storage.StoreException("reading moderation state failed: " + e.getMessage(), e);
        }
    }

    static List<dev.nexus.storage.Moderation.Entry> readModeration(Connection c) throws SQLException {
        List<dev.nexus.storage.Moderation.Entry> entries = new ArrayList<>();
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT category, value, reason FROM moderation ORDER BY category, value")) {
            while (rs.next()) entries.add(new dev.nexus.storage.Moderation.Entry(rs.getString(1), rs.getString(2), rs.getString(3)));
        }
        return entries;
    }

    /** The whole database's size (every node shares it); -1 while it cannot be reached. */
    long sizeOnDiskBytes() {
        try (Connection c = readers.getConnection(); java.sql.Statement st = c.createStatement();
             java.sql.ResultSet rs = st.executeQuery("SELECT pg_database_size(current_database())")) {
            return rs.next() ? rs.getLong(1) : -1;
        } catch (SQLException e) {
            return -1;
        }
    }

}
