package dev.nexus.storage;

import dev.nexus.core.Filter;
import dev.nexus.core.Kinds;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Translates one NIP-01 filter into one SQL statement that the indexes answer exactly: every
 * field of the filter is a WHERE term, so nothing is filtered in memory after a LIMIT (the
 * mistake that makes `#e`/`#p` queries silently miss results).
 *
 * <p>Three plans, chosen by the filter's shape:
 * <ul>
 *   <li>ids given: look the ids up; tag conditions are per-row EXISTS probes.</li>
 *   <li>a tag with one value (the marketplace's {@code #e:[job]}, {@code #p:[me]}, {@code #k:[5050]}):
 *       walk the tag index newest first and stop at the limit; other tags are EXISTS probes.</li>
 *   <li>otherwise: the event indexes (authors, kinds, time), tags as IN sub-selects.</li>
 * </ul>
 */
record FilterQuery(String sql, List<Object> params) {
    private static final String COLUMNS = "SELECT e.id, e.created_at, e.raw FROM ";

    /**
     * The newest {@code rows} matches by created_at alone, ties in no particular order: the indexes
     * give this order as they are walked, where an id tie-break in SQL makes SQLite copy every row
     * into a sorter (half of a query's cost in W3's shapes). The caller asks for one row past its
     * limit, orders ties by id itself, and reads the second where the limit falls again
     * ({@link #ofOneSecond}) when the extra row shows that some of its events may be missing.
     */
    static FilterQuery newestByTime(Filter f, int rows, long now) {
        List<Object> params = new ArrayList<>();
        StringBuilder sql = new StringBuilder(256).append(COLUMNS);
        String driver = fromWhere(sql, params, f, now);
        sql.append(driver != null ? " ORDER BY t.created_at DESC LIMIT ?" : " ORDER BY e.created_at DESC LIMIT ?");
        params.add(rows);
        return new FilterQuery(sql.toString(), List.copyOf(params));
    }

    /**
     * The matches of one second in id order, at most {@code max}: the events of the second where the
     * limit falls, when some of them may be missing from {@link #newestByTime}'s rows.
     */
    static FilterQuery ofOneSecond(Filter f, long second, int max, long now) {
        List<Object> params = new ArrayList<>();
        StringBuilder sql = new StringBuilder(256).append(COLUMNS);
        String driver = fromWhere(sql, params, f, now);
        sql.append(driver != null ? " AND t.created_at = ?" : " AND e.created_at = ?").append(" ORDER BY e.id ASC LIMIT ?");
        params.add(second);
        params.add(max);
        return new FilterQuery(sql.toString(), List.copyOf(params));
    }

    /** The ids of every stored event that matches, in no order and without a limit (NIP-45 COUNT). */
    static FilterQuery idsOf(Filter f, long now) {
        List<Object> params = new ArrayList<>();
        StringBuilder sql = new StringBuilder(256).append("SELECT e.id FROM ");
        fromWhere(sql, params, f, now);
        return new FilterQuery(sql.toString(), List.copyOf(params));
    }

    /**
     * How many stored events match, expired ones included and without a limit: answered from the
     * index alone for kinds/authors/time filters (no row is read), the first half of a one-filter COUNT.
     */
    static FilterQuery countIgnoringExpiry(Filter f) {
        List<Object> params = new ArrayList<>();
        StringBuilder sql = new StringBuilder(256).append("SELECT COUNT(*) FROM ");
        fromWhere(sql, params, f, null, true);
        return new FilterQuery(sql.toString(), List.copyOf(params));
    }

    /**
     * How many matches have expired but are still stored (the sweeper has not reached them yet):
     * walks only the few rows of the expiry index up to {@code now}, the second half of a one-filter COUNT.
     */
    static FilterQuery countExpired(Filter f, long now) {
        List<Object> params = new ArrayList<>();
        StringBuilder sql = new StringBuilder(256)
                .append("SELECT COUNT(*) FROM event e INDEXED BY event_expires WHERE e.expires_at IS NOT NULL AND e.expires_at <= ?");
        params.add(now);
        conditions(sql, params, f, null, true);
        return new FilterQuery(sql.toString(), List.copyOf(params));
    }

    /** Every stored, unexpired match's wire JSON, oldest first and without a limit (the admin export). */
    static FilterQuery rawOf(Filter f, long now) {
        List<Object> params = new ArrayList<>();
        StringBuilder sql = new StringBuilder(256).append("SELECT e.raw FROM ");
        fromWhere(sql, params, f, now);
        sql.append(" ORDER BY e.created_at ASC, e.id ASC");
        return new FilterQuery(sql.toString(), List.copyOf(params));
    }

    /**
     * (created_at, id) of the matching events in ascending order, at most {@code max} rows; with
     * the filter's limit, of the newest {@code limit} only (chosen as a REQ would, then re-sorted).
     */
    static FilterQuery idsAscending(Filter f, int max, long now) {
        List<Object> params = new ArrayList<>();
        StringBuilder sql = new StringBuilder(256);
        if (f.limit() != null) {
            sql.append("SELECT id, created_at FROM (SELECT e.id AS id, e.created_at AS created_at FROM ");
            String driver = fromWhere(sql, params, f, now);
            sql.append(driver != null ? " ORDER BY t.created_at DESC, e.id ASC LIMIT ?" : " ORDER BY e.created_at DESC, e.id ASC LIMIT ?");
            params.add(f.limit());
            sql.append(") ORDER BY created_at ASC, id ASC LIMIT ?");
        } else {
            sql.append("SELECT e.id, e.created_at FROM ");
            String driver = fromWhere(sql, params, f, now);
            sql.append(driver != null ? " ORDER BY t.created_at ASC, e.id ASC LIMIT ?" : " ORDER BY e.created_at ASC, e.id ASC LIMIT ?");
        }
        params.add(max);
        return new FilterQuery(sql.toString(), List.copyOf(params));
    }

    /** Appends the FROM and WHERE clauses for {@code f}; returns the tag driving the plan, or null. */
    private static String fromWhere(StringBuilder sql, List<Object> params, Filter f, long now) {
        return fromWhere(sql, params, f, now, true);
    }

    /** With {@code unexpiredAt} null, expired events are not excluded (the caller subtracts them). */
    private static String fromWhere(StringBuilder sql, List<Object> params, Filter f, Long unexpiredAt, boolean tagDriven) {
        String driver = tagDriven && f.ids() == null ? singleValuedTag(f) : null;
        if (driver != null) {
            sql.append("tag t CROSS JOIN event e ON e.seq = t.event_seq WHERE t.name = ?");
            params.add(driver);
            in(sql, params, "t.value", f.tags().get(driver));
            if (f.kinds() != null) in(sql, params, "t.kind", f.kinds());
            time(sql, params, "t.created_at", f);
        } else {
            sql.append("event e WHERE 1 = 1");
        }
        if (unexpiredAt != null) {
            sql.append(" AND (e.expires_at IS NULL OR e.expires_at > ?)");
            params.add(unexpiredAt);
        }
        conditions(sql, params, f, driver, false);
        return driver;
    }

    /** The filter's terms on {@code e} (and its tags as probes or sub-selects), after the FROM/driver part. */
    private static void conditions(StringBuilder sql, List<Object> params, Filter f, String driver, boolean tagsAsProbes) {
        if (f.ids() != null) in(sql, params, "e.id", f.ids());
        if (f.authors() != null) in(sql, params, "e.pubkey", f.authors());
        if (f.kinds() != null) {
            in(sql, params, "e.kind", f.kinds());
            if (driver == null && allReplaceable(f.kinds())) {
                // True of every stored replaceable or addressable event, and written out so that SQLite
                // may use the partial event_address index (pubkey, kind, ...) for "profile of X" queries.
                sql.append(" AND e.d_tag IS NOT NULL");
            }
        }
        if (driver == null) time(sql, params, "e.created_at", f);
        for (Map.Entry<String, Set<String>> tag : f.tags().entrySet()) {
            if (tag.getKey().equals(driver)) continue;
            if (tagsAsProbes || driver != null || f.ids() != null) {
                // A point lookup of the tag table's whole key: the event row carries its kind and created_at.
                sql.append(" AND EXISTS (SELECT 1 FROM tag x WHERE x.name = ?");
                params.add(tag.getKey());
                in(sql, params, "x.value", tag.getValue());
                sql.append(" AND x.kind = e.kind AND x.created_at = e.created_at AND x.event_seq = e.seq");
            } else {
                sql.append(" AND e.seq IN (SELECT event_seq FROM tag WHERE name = ?");
                params.add(tag.getKey());
                in(sql, params, "value", tag.getValue());
                if (f.kinds() != null) in(sql, params, "kind", f.kinds());
                time(sql, params, "created_at", f);
            }
            sql.append(')');
        }
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

    private static boolean allReplaceable(Set<Integer> kinds) {
        for (int k : kinds) if (!Kinds.isReplaceable(k) && !Kinds.isAddressable(k)) return false;
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
