package dev.nexus.storage;

import com.zaxxer.hikari.HikariDataSource;
import dev.nexus.core.Filter;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;

/**
 * The SQLite store's reads, on the pool of read-only connections: one SQL statement per filter
 * ({@link FilterQuery}), each under the query budget when one is set. Results are read into memory
 * and the connection returned, so no reader holds a WAL snapshot across long work.
 */
final class SqliteQueries {
    /** SQLite's default SQLITE_MAX_VARIABLE_NUMBER: bound values one statement can take. */
    static final int MAX_BOUND_VALUES = 32766;
    /** VM steps between two looks at the clock while a query runs. */
    private static final int BUDGET_CHECK_STEPS = 1000;

    private final HikariDataSource readers;
    private final long queryBudgetMillis;
    private final ReaderStatements statements = new ReaderStatements();

    SqliteQueries(HikariDataSource readers, long queryBudgetMillis) {
        this.readers = readers;
        this.queryBudgetMillis = queryBudgetMillis;
    }

    /**
     * NIP-01 order: newest first, the lowest id first among events of one second. Asked of SQLite by
     * time alone with one row more than the limit ({@link FilterQuery#newestByTime}); ties are put in
     * id order here. When that extra row shares the second of the last one kept, some events of that
     * second may be missing: the rows newer than it are kept, and that second's events are read again
     * in id order, as many as there are places left ({@link FilterQuery#ofOneSecond}). One budget
     * covers both statements.
     */
    List<StoredEvent> query(Filter filter, int limit, long nowSeconds) {
        if (filter.matchesNothing() || limit <= 0) return List.of();
        try (Connection c = readers.getConnection()) {
            startBudget(c);
            try {
                return newestFirst(c, filter, limit, nowSeconds);
            } finally {
                endBudget(c);
            }
        } catch (SQLException e) {
            throw failure("query", e);
        }
    }

    private List<StoredEvent> newestFirst(Connection c, Filter filter, int limit, long nowSeconds) throws SQLException {
        int withExtra = oneMore(limit);
        List<StoredEvent> out = rows(c, FilterQuery.newestByTime(filter, withExtra, nowSeconds), withExtra);
        if (out.size() > limit) {
            long boundary = out.get(limit - 1).createdAt();
            if (out.get(limit).createdAt() == boundary) {
                int newer = 0;
                while (out.get(newer).createdAt() != boundary) newer++;
                List<StoredEvent> page = new ArrayList<>(out.subList(0, newer));
                orderTiesById(page);
                page.addAll(rows(c, FilterQuery.ofOneSecond(filter, boundary, limit - newer, nowSeconds), limit - newer));
                return page;
            }
            out.remove(limit);
        }
        orderTiesById(out);
        return out;
    }

    /** The rows a REQ asks for first: its limit and one more (never past what an int holds). */
    private static int oneMore(int limit) {
        return limit == Integer.MAX_VALUE ? limit : limit + 1;
    }

    /** Runs one statement under the budget the caller started, and reads its rows. */
    private List<StoredEvent> rows(Connection c, FilterQuery q, int expected) throws SQLException {
        checkBoundValues(q.params().size());
        PreparedStatement ps = statements.prepare(c, q.sql());
        List<StoredEvent> out = new ArrayList<>(Math.min(expected, 64));
        boolean ok = false;
        try {
            bind(ps, q.params());
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    byte[] raw = rs.getBytes(3);
                    StoredEvent ev = StoredEvent.withIdAtStart(rs.getLong(2), raw);
                    out.add(ev != null ? ev : new StoredEvent(rs.getString(1), rs.getLong(2), raw));
                }
            }
            ok = true;
        } finally {
            if (!ok) statements.discard(c, q.sql());
        }
        return out;
    }

    /** Rows already newest first: sorts each run of one second by id (the only rows whose ids are read). */
    static void orderTiesById(List<StoredEvent> newestFirst) {
        int n = newestFirst.size();
        for (int start = 0; start < n; ) {
            long second = newestFirst.get(start).createdAt();
            int end = start + 1;
            while (end < n && newestFirst.get(end).createdAt() == second) end++;
            if (end - start > 1) newestFirst.subList(start, end).sort(java.util.Comparator.comparing(StoredEvent::id));
            start = end;
        }
    }

    long count(List<Filter> filters, long nowSeconds) {
        List<Filter> live = filters.stream().filter(f -> !f.matchesNothing()).toList();
        if (live.size() == 1) return countOne(live.get(0), nowSeconds);
        List<String> selects = new ArrayList<>();
        List<Object> params = new ArrayList<>();
        for (Filter f : filters) {
            if (f.matchesNothing()) continue;
            FilterQuery q = FilterQuery.idsOf(f, nowSeconds);
            selects.add(q.sql());
            params.addAll(q.params());
        }
        if (selects.isEmpty()) return 0;
        // UNION (not UNION ALL): an event matched by two filters counts once.
        String sql = "SELECT COUNT(*) FROM (" + String.join(" UNION ", selects) + ")";
        checkBoundValues(params.size());
        try (Connection c = readers.getConnection(); PreparedStatement ps = c.prepareStatement(sql)) {
            bind(ps, params);
            startBudget(c);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? rs.getLong(1) : 0;
            } finally {
                endBudget(c);
            }
        } catch (SQLException e) {
            throw failure("count", e);
        }
    }

    /**
     * One filter needs no de-duplication, so it is counted as (all matches) − (expired matches not
     * yet swept): the first is an index-only count for kinds/authors/time filters, the second walks
     * only the expiry index up to now. Counting through "unexpired" directly would read every row
     * for its expires_at (a cold COUNT of 250k jobs took seconds; now milliseconds).
     */
    private long countOne(Filter f, long nowSeconds) {
        FilterQuery all = FilterQuery.countIgnoringExpiry(f);
        FilterQuery expired = FilterQuery.countExpired(f, nowSeconds);
        checkBoundValues(Math.max(all.params().size(), expired.params().size()));
        try (Connection c = readers.getConnection()) {
            startBudget(c);
            try {
                long total = single(c, all);
                return total == 0 ? 0 : total - single(c, expired);
            } finally {
                endBudget(c);
            }
        } catch (SQLException e) {
            throw failure("count", e);
        }
    }

    private static long single(Connection c, FilterQuery q) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(q.sql())) {
            bind(ps, q.params());
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? rs.getLong(1) : 0;
            }
        }
    }

    /** EXPLAIN QUERY PLAN of the statements a one-filter COUNT runs; for tests and operators. */
    public List<String> explainCount(Filter filter, long nowSeconds) {
        List<String> out = new ArrayList<>();
        try (Connection c = readers.getConnection()) {
            for (FilterQuery q : List.of(FilterQuery.countIgnoringExpiry(filter), FilterQuery.countExpired(filter, nowSeconds))) {
                try (PreparedStatement ps = c.prepareStatement("EXPLAIN QUERY PLAN " + q.sql())) {
                    bind(ps, q.params());
                    try (ResultSet rs = ps.executeQuery()) {
                        while (rs.next()) out.add(rs.getString("detail"));
                    }
                }
            }
            return out;
        } catch (SQLException e) {
            throw new StoreException("explain failed: " + e.getMessage(), e);
        }
    }

    int scanIdsAscending(Filter filter, long nowSeconds, int maxItems, EventStore.IdConsumer consumer) {
        if (filter.matchesNothing() || maxItems <= 0 || (filter.limit() != null && filter.limit() == 0)) return 0;
        FilterQuery q = FilterQuery.idsAscending(filter, maxItems, nowSeconds);
        try (Connection c = readers.getConnection(); PreparedStatement ps = c.prepareStatement(q.sql())) {
            bind(ps, q.params());
            ps.setFetchSize(1024);
            int n = 0;
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    consumer.accept(rs.getLong(2), rs.getString(1));
                    n++;
                }
            }
            return n;
        } catch (SQLException e) {
            throw new StoreException("id scan failed: " + e.getMessage(), e);
        }
    }

    private static void checkBoundValues(int n) {
        if (n > MAX_BOUND_VALUES) {
            throw new StoreException(StoreException.Reason.TOO_MANY_VALUES,
                    "the filters bind " + n + " values; the store takes at most " + MAX_BOUND_VALUES + " in one query", null);
        }
    }

    /** Interrupts the statement on this connection once the budget is spent (checked every few VM steps). */
    private void startBudget(Connection c) throws SQLException {
        if (queryBudgetMillis <= 0) return;
        long deadline = System.nanoTime() + queryBudgetMillis * 1_000_000L;
        org.sqlite.ProgressHandler.setHandler(c.unwrap(org.sqlite.SQLiteConnection.class), BUDGET_CHECK_STEPS, new org.sqlite.ProgressHandler() {
                    protected int progress() {
                return System.nanoTime() > deadline ? 1 : 0;
            }
        });
    }

    private void endBudget(Connection c) throws SQLException {
        if (queryBudgetMillis > 0) org.sqlite.ProgressHandler.clearHandler(c.unwrap(org.sqlite.SQLiteConnection.class));
    }

    private StoreException failure(String what, SQLException e) {
        String m = String.valueOf(e.getMessage());
        if (queryBudgetMillis > 0 && (m.contains("interrupt") || m.contains("SQLITE_INTERRUPT"))) {
            return new StoreException(StoreException.Reason.TIMEOUT, what + " ran past its budget of " + queryBudgetMillis + " ms", e);
        }
        return new StoreException(what + " failed: " + m, e);
    }

    /** Statements cached on the connection the pool hands out next; for tests. */
    int cachedStatements() {
        try (Connection c = readers.getConnection()) {
            return statements.cachedOn(c);
        } catch (SQLException e) {
            throw new StoreException("cannot read the statement cache: " + e.getMessage(), e);
        }
    }

    /** EXPLAIN QUERY PLAN for the statement {@link #query} runs first; for tests and operators. */
    public List<String> explain(Filter filter, int limit, long nowSeconds) {
        return explain(FilterQuery.newestByTime(filter, oneMore(limit), nowSeconds));
    }

    /** EXPLAIN QUERY PLAN for the statement {@link #query} runs when ties straddle the limit. */
    List<String> explainOneSecond(Filter filter, long second, int max, long nowSeconds) {
        return explain(FilterQuery.ofOneSecond(filter, second, max, nowSeconds));
    }

    private List<String> explain(FilterQuery q) {
        try (Connection c = readers.getConnection(); PreparedStatement ps = c.prepareStatement("EXPLAIN QUERY PLAN " + q.sql())) {
            bind(ps, q.params());
            List<String> out = new ArrayList<>();
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) out.add(rs.getString("detail"));
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

    /** Binds {@link FilterQuery}'s parameters (strings, ints, longs) in order; the maintenance commands use it too. */
    static void bind(PreparedStatement ps, List<Object> params) throws SQLException {
        for (int i = 0; i < params.size(); i++) {
            Object p = params.get(i);
            if (p instanceof String s) ps.setString(i + 1, s);
            else if (p instanceof Integer n) ps.setInt(i + 1, n);
            else ps.setLong(i + 1, (Long) p);
        }
    }

    List<Moderation.Entry> moderation() {
        try (Connection c = readers.getConnection()) {
            return readModeration(c);
        } catch (SQLException e) {
            throw failure("reading moderation state", e);
        }
    }

    static List<Moderation.Entry> readModeration(Connection c) throws SQLException {
        List<Moderation.Entry> entries = new ArrayList<>();
        try (Statement s = c.createStatement(); java.sql.ResultSet rs = s.executeQuery("SELECT category, value, reason FROM moderation ORDER BY category, value")) {
            while (rs.next()) entries.add(new Moderation.Entry(rs.getString(1), rs.getString(2), rs.getString(3)));
        }
        return entries;
    }
}
