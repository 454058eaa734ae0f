package dev.nexus.storage.postgres;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.Map;
import org.junit.jupiter.api.Test;

class PostgresLocationTest {
    @Test
    void aLibpqUriBecomesAJdbcUrlWithItsUserAndParameters() {
        PostgresLocation l = PostgresLocation.parse("postgresql://127.0.0.1:5432/nexus?user=nexus&sslmode=require&connect_timeout=3", Map.of());
        assertEquals("jdbc:postgresql://127.0.0.1:5432/nexus", l.jdbcUrl());
        assertEquals("nexus", l.properties().getProperty("user"));
        assertEquals("require", l.properties().getProperty("sslmode"));
        assertEquals("3", l.properties().getProperty("connectTimeout"));
    }

    @Test
    void userAndPasswordMayComeBeforeTheHostAndThePasswordIsNeverShown() {
        PostgresLocation l = PostgresLocation.parse("postgres://relay:s%40cret@db1:5432,db2:5433/nexus", Map.of());
        assertEquals("jdbc:postgresql://db1:5432,db2:5433/nexus", l.jdbcUrl());
        assertEquals("relay", l.properties().getProperty("user"));
        assertEquals("s@cret", l.properties().getProperty("password"));
        assertFalse(l.display().contains("cret"), l.display());
        assertFalse(PostgresLocation.mask("postgresql://h/db?user=u&password=hunter2").contains("hunter2"));
    }

    @Test
    void withoutAPasswordInTheUriItComesFromNexusPgPasswordThenPgpassword() {
        String uri = "postgresql://127.0.0.1/nexus?user=nexus";
        assertEquals("a", PostgresLocation.parse(uri, Map.of("NEXUS_PG_PASSWORD", "a", "PGPASSWORD", "b")).properties().getProperty("password"));
        assertEquals("b", PostgresLocation.parse(uri, Map.of("PGPASSWORD", "b")).properties().getProperty("password"));
        assertEquals("c", PostgresLocation.parse("postgresql://u:c@h/db", Map.of("PGPASSWORD", "b")).properties().getProperty("password"));
    }

    @Test
    void somethingElseIsRefusedWithAReason() {
        assertThrows(IllegalArgumentException.class, () -> PostgresLocation.parse("jdbc:postgresql://h/db", Map.of()));
        assertThrows(IllegalArgumentException.class, () -> PostgresLocation.parse("postgresql://h/db?novalue", Map.of()));
    }
}
