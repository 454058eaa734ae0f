package dev.nexus.storage.postgres;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import dev.nexus.core.Event;
import dev.nexus.core.EventJson;
import dev.nexus.core.ProtocolLimits;
import dev.nexus.storage.LiveFeed;
import dev.nexus.storage.WriteResult;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.postgresql.PGConnection;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Every node's view of every node's commits: the {@code live_feed} table read by sequence number,
 * woken by LISTEN/NOTIFY.
 *
 * <p>The classic trap of "read everything after the last sequence I saw" is a transaction that
 * took a lower number but commits later: the reader has moved past it and never sees it. Here
 * sequence numbers are handed out under an advisory lock that the writing transaction holds until
 * it commits ({@link PostgresFeedAppend#append}), and PostgreSQL makes a commit visible
 * before it releases that transaction's locks; so a row with sequence N is visible before any row
 * above N can even be numbered, and "seq > last" misses nothing. A rolled-back transaction leaves a
 * gap that stays a gap forever, which readers can simply step over.
 *
 * <p>Notifications are only a wake-up. Coalesced or lost ones (a reconnect) cost latency, not
 * events: the reader also polls once a second, and after a reconnect it resumes from the last
 * sequence it delivered. Each event is delivered once, in sequence order, on the "nexus-feed" thread.
 *
 * <p>Ephemeral events travel the same way, as feed rows that are never part of the event store and
 * are pruned with the rest of the feed (a NOTIFY payload alone would be limited to 8000 bytes and
 * lost by a reader that is reconnecting).
 */
public final class PostgresLiveFeed implements LiveFeed {
    private static final Logger log = LoggerFactory.getLogger(PostgresLiveFeed.class);
    static final String CHANNEL = "nexus_feed";
    private static final int READ_BATCH = 500;
    private static final int POLL_MILLIS = 1000;
    /** Events on the feed were validated by the node that stored them; only the id is recomputed here. */
    private static final ProtocolLimits TRUSTED = new ProtocolLimits(Integer.MAX_VALUE, Integer.MAX_VALUE, 1, 64, 1);

    private final PostgresEventStore store;
    private final PostgresLocation location;
    private final String name;
    private final JsonFactory json = new JsonFactory();
    private volatile boolean running;
    private Thread reader;
    private Connection connection;
    private long lastSeq = -1;

    /** A feed reading the database {@code store} writes to; {@code name} tells nodes apart in pg_stat_activity. */
    public PostgresLiveFeed(PostgresEventStore store, String name) {
        this.store = store;
        this.location = store.location();
        this.name = name;
    }

    @Override
    public synchronized void start(Consumer<LiveEvent> sink) {
        if (running) throw new IllegalStateException("the feed is already started");
        running = true;
        CountDownLatch positioned = new CountDownLatch(1);
        reader = new Thread(() -> readLoop(sink, positioned), "nexus-feed");
        reader.setDaemon(true);
        reader.start();
        try {
            // Until the reader knows where "now" is, an event committed meanwhile could be skipped.
            if (!positioned.await(30, TimeUnit.SECONDS)) log.warn("live feed: database not reachable yet; live events start once it is");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public CompletableFuture<WriteResult> publish(Event ephemeral) {
        return store.publishEphemeral(ephemeral);
    }

    /** The last sequence number delivered (or the start position), for tests and metrics. */
    long lastSequence() {
        return lastSeq;
    }

    private void readLoop(Consumer<LiveEvent> sink, CountDownLatch positioned) {
        boolean down = false;
        long backoff = 100;
        while (running) {
            try {
                if (connection == null) {
                    connect();
                    if (lastSeq < 0) {
                        lastSeq = currentMax();
                        positioned.countDown();
                    } else {
                        warnIfPruned();
                    }
                    if (down) log.info("live feed: reconnected, resuming after seq {}", lastSeq);
                    down = false;
                    backoff = 100;
                }
                drain(sink);
                // Blocks until a NOTIFY arrives or the poll interval passes.
                connection.unwrap(PGConnection.class).getNotifications(POLL_MILLIS);
            } catch (SQLException e) {
                if (!running) break;
                if (!down) log.warn("live feed: lost the database connection ({}); reconnecting", e.getMessage());
                down = true;
                closeConnection();
                sleep(backoff);
                backoff = Math.min(5000, backoff * 2);
            } catch (RuntimeException e) {
                // A sink failure must not stop delivery to everyone else.
                log.error("live feed: delivery failed: {}", e.toString());
            }
        }
        closeConnection();
    }

    private void connect() throws SQLException {
        Connection c = DriverManager.getConnection(location.jdbcUrl(), location.with(Map.of(
                "ApplicationName", name, "connectTimeout", "5", "socketTimeout", "30", "tcpKeepAlive", "true")));
        try (Statement s = c.createStatement()) {
            s.execute("LISTEN " + CHANNEL);
        }
        connection = c;
    }

    private long currentMax() throws SQLException {
        try (Statement s = connection.createStatement(); ResultSet rs = s.executeQuery("SELECT coalesce(max(seq), 0) FROM live_feed")) {
            rs.next();
            return rs.getLong(1);
        }
    }

    private void warnIfPruned() throws SQLException {
        try (Statement s = connection.createStatement(); ResultSet rs = s.executeQuery("SELECT min(seq) FROM live_feed")) {
            if (rs.next()) {
                long oldest = rs.getLong(1);
                if (!rs.wasNull() && oldest > lastSeq + 1 && lastSeq > 0) {
                    log.warn("live feed: disconnected longer than the feed keeps events; events after seq {} up to {} may not have reached this node's live subscribers",
                            lastSeq, oldest);
                }
            }
        }
    }

    private void drain(Consumer<LiveEvent> sink) throws SQLException {
        while (running) {
            int read = 0;
            try (PreparedStatement ps = connection.prepareStatement("SELECT seq, stored, raw FROM live_feed WHERE seq > ? ORDER BY seq LIMIT " + READ_BATCH)) {
                ps.setLong(1, lastSeq);
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        read++;
                        long seq = rs.getLong(1);
                        Event e = parse(rs.getString(3));
                        // Advance first: an event that cannot be parsed or delivered is not retried forever.
                        lastSeq = seq;
                        if (e != null) sink.accept(new LiveEvent(seq, e, rs.getBoolean(2)));
                    }
                }
            }
            if (read < READ_BATCH) return;
        }
    }

    private Event parse(String raw) {
        try (JsonParser p = json.createParser(raw)) {
            p.nextToken();
            return EventJson.parse(p, TRUSTED);
        } catch (Exception e) {
            log.error("live feed: cannot read an event from the feed: {}", e.getMessage());
            return null;
        }
    }

    private void closeConnection() {
        if (connection == null) return;
        try {
            connection.close();
        } catch (SQLException ignored) {
            // already broken
        }
        connection = null;
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public void close() {
        running = false;
        Thread t = reader;
        if (t != null) {
            t.interrupt();
            try {
                t.join(10000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
