package dev.nexus.storage.postgres;

import dev.nexus.core.Filter;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * One NIP-01 filter as one PostgreSQL statement, with the same three plans as SQLite's
 * {@code FilterQuery} (ids; one single-valued tag driving the tag index; the event indexes) so that
 * every filter field is a WHERE term and nothing is filtered in memory after a LIMIT. The
 * PostgreSQL dialect differs in two ways: value lists are bound as one array ({@code = ANY(?)}),
 * so a filter's statement text does not depend on how many values it lists and the driver's
 * prepared-statement cache stays small; and joins are spelled {@code JOIN ... ON}.
 */
record PostgresFilterQuery(String sql, List<Object> params) {
    private static final String COLUMNS = "SELECT e.id, e.created_at, e.raw FROM ";

    static PostgresFilterQuery of(Filter f, int limit, long now) {
        List<Object> params = new ArrayList<>();
        StringBuilder sql = new StringBuilder(256).append(COLUMNS);
        String driver = fromWhere(sql, params, f, now);
        sql.append(driver != null ? " ORDER BY t.created_at DESC, e.id ASC LIMIT ?" : " ORDER BY e.created_at DESC, e.id ASC LIMIT ?");
        params.add(limit);
        return new PostgresFilterQuery(sql.toString(), List.copyOf(params));
    }

    /** The ids of every stored event that matches, in no order and without a limit (NIP-45 COUNT). */
    static PostgresFilterQuery idsOf(Filter f, long now) {
        List<Object> params = new ArrayList<>();
        StringBuilder sql = new StringBuilder(256).append("SELECT e.id FROM ");
        fromWhere(sql, params, f, now);
        return new PostgresFilterQuery(sql.toString(), List.copyOf(params));
    }

    /**
     * (id, created_at) of the matches in ascending (created_at, id) order, at most {@code max} rows;
     * with the filter's limit, of the newest {@code limit} only (chosen as a REQ would, then re-sorted).
     */
    static PostgresFilterQuery idsAscending(Filter f, int max, long now) {
        List<Object> params = new ArrayList<>();
        StringBuilder sql = new StringBuilder(256);
        if (f.limit() != null) {
            sql.append("SELECT id, created_at FROM (SELECT e.id AS id, e.created_at AS created_at FROM ");
            String driver = fromWhere(sql, params, f, now);
            sql.append(driver != null ? " ORDER BY t.created_at DESC, e.id ASC LIMIT ?" : " ORDER BY e.created_at DESC, e.id ASC LIMIT ?");
            params.add(f.limit());
            sql.append(") newest ORDER BY created_at ASC, id ASC LIMIT ?");
        } else {
            sql.append("SELECT e.id, e.created_at FROM ");
            String driver = fromWhere(sql, params, f, now);
            sql.append(driver != null ? " ORDER BY t.created_at ASC, e.id ASC LIMIT ?" : " ORDER BY e.created_at ASC, e.id ASC LIMIT ?");
        }
        params.add(max);
        return new PostgresFilterQuery(sql.toString(), List.copyOf(params));
    }

    private static String fromWhere(StringBuilder sql, List<Object> params, Filter f, long now) {
        String driver = f.ids() == null ? singleValuedTag(f) : null;
        if (driver != null) {
            sql.append("tag t JOIN event e ON e.seq = t.event_seq WHERE t.name = ?");
            params.add(driver);
            in(sql, params, "t.value", f.tags().get(driver), false);
            if (f.kinds() != null) in(sql, params, "t.kind", f.kinds(), true);
            time(sql, params, "t.created_at", f);
        } else {
            sql.append("event e WHERE true");
        }
        sql.append(" AND (e.expires_at IS NULL OR e.expires_at > ?)");
        params.add(now);
        if (f.ids() != null) in(sql, params, "e.id", f.ids(), false);
        if (f.authors() != null) in(sql, params, "e.pubkey", f.authors(), false);
        if (f.kinds() != null) {
            in(sql, params, "e.kind", f.kinds(), true);
            // A literal copy of the partial index's condition lets the planner use it even with a generic plan.
            if (driver == null && allMarketplace(f.kinds())) sql.append(" AND e.kind >= 5000 AND e.kind <= 7000");
        }
        if (driver == null) time(sql, params, "e.created_at", f);
        for (Map.Entry<String, Set<String>> tag : f.tags().entrySet()) {
            if (tag.getKey().equals(driver)) continue;
            if (driver != null || f.ids() != null) {
                sql.append(" AND EXISTS (SELECT 1 FROM tag x WHERE x.event_seq = e.seq AND x.name = ?");
                params.add(tag.getKey());
                in(sql, params, "x.value", tag.getValue(), false);
            } else {
                sql.append(" AND e.seq IN (SELECT event_seq FROM tag WHERE name = ?");
                params.add(tag.getKey());
                in(sql, params, "value", tag.getValue(), false);
                if (f.kinds() != null) in(sql, params, "kind", f.kinds(), true);
                time(sql, params, "created_at", f);
            }
            sql.append(')');
        }
        return driver;
    }

    /** The tag to drive the query from: one with a single value, preferring `e` (event ids are the rarest values). */
    private static String singleValuedTag(Filter f) {
        String best = null;
        for (Map.Entry<String, Set<String>> tag : f.tags().entrySet()) {
            if (tag.getValue().size() != 1) continue;
            if (tag.getKey().equals("e")) return "e";
            if (best == null) best = tag.getKey();
        }
        return best;
    }

    private static void time(StringBuilder sql, List<Object> params, String column, Filter f) {
        if (f.since() != null) {
            sql.append(" AND ").append(column).append(" >= ?");
            params.add(f.since());
        }
        if (f.until() != null) {
            sql.append(" AND ").append(column).append(" <= ?");
            params.add(f.until());
        }
    }

    private static boolean allMarketplace(Set<Integer> kinds) {
        for (int k : kinds) if (k < 5000 || k > 7000) return false;
        return true;
    }

    private static void in(StringBuilder sql, List<Object> params, String column, Collection<?> values, boolean integers) {
        sql.append(" AND ").append(column);
        if (values.size() == 1) {
            sql.append(" = ?");
            params.add(values.iterator().next());
        } else {
            sql.append(" = ANY(?)");
            params.add(integers ? values.toArray(new Integer[0]) : values.toArray(new String[0]));
        }
    }

    static void bind(Connection c, PreparedStatement ps, List<Object> params) throws SQLException {
        for (int i = 0; i < params.size(); i++) {
            Object p = params.get(i);
            if (p instanceof String s) ps.setString(i + 1, s);
            else if (p instanceof Integer n) ps.setInt(i + 1, n);
            else if (p instanceof Long n) ps.setLong(i + 1, n);
            else if (p instanceof Integer[] a) ps.setArray(i + 1, c.createArrayOf("int4", a));
            else ps.setArray(i + 1, c.createArrayOf("text", (String[]) p));
        }
    }
}
