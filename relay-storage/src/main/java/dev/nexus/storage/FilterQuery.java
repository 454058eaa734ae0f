package dev.nexus.storage;

import dev.nexus.core.Filter;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Translates one NIP-01 filter into one SQL statement that the indexes answer exactly: every
 * field of the filter is a WHERE term, so nothing is filtered in memory after a LIMIT (the
 * mistake that makes `#e`/`#p` queries silently miss results).
 */
record FilterQuery(String sql, List<Object> params) {

    static FilterQuery of(Filter f, int limit, long now) {
        StringBuilder sql = new StringBuilder("SELECT id, created_at, raw FROM event WHERE (expires_at IS NULL OR expires_at > ?)");
        List<Object> params = new ArrayList<>();
        params.add(now);
        if (f.ids() != null) in(sql, params, "id", f.ids());
        if (f.authors() != null) in(sql, params, "pubkey", f.authors());
        if (f.kinds() != null) {
            in(sql, params, "kind", f.kinds());
            if (allMarketplace(f.kinds())) {
                // A literal copy of the partial index's condition lets SQLite prove it may use it.
                sql.append(" AND kind >= 5000 AND kind <= 7000");
            }
        }
        if (f.since() != null) {
            sql.append(" AND created_at >= ?");
            params.add(f.since());
        }
        if (f.until() != null) {
            sql.append(" AND created_at <= ?");
            params.add(f.until());
        }
        for (Map.Entry<String, Set<String>> tag : f.tags().entrySet()) {
            sql.append(" AND seq IN (SELECT event_seq FROM tag WHERE name = ?");
            params.add(tag.getKey());
            in(sql, params, "value", tag.getValue());
            if (f.kinds() != null) in(sql, params, "kind", f.kinds());
            if (f.since() != null) {
                sql.append(" AND created_at >= ?");
                params.add(f.since());
            }
            if (f.until() != null) {
                sql.append(" AND created_at <= ?");
                params.add(f.until());
            }
            sql.append(')');
        }
        sql.append(" ORDER BY created_at DESC, id ASC LIMIT ?");
        params.add(limit);
        return new FilterQuery(sql.toString(), List.copyOf(params));
    }

    private static boolean allMarketplace(Set<Integer> kinds) {
        for (int k : kinds) if (k < 5000 || k > 7000) return false;
        return true;
    }

    private static void in(StringBuilder sql, List<Object> params, String column, Collection<?> values) {
        sql.append(" AND ").append(column);
        if (values.size() == 1) {
            sql.append(" = ?");
        } else {
            sql.append(" IN (");
            for (int i = 0; i < values.size(); i++) sql.append(i == 0 ? "?" : ",?");
            sql.append(')');
        }
        params.addAll(values);
    }
}
