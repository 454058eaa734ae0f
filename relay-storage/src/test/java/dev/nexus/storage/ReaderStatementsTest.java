package dev.nexus.storage;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ReaderStatementsTest {
    @TempDir Path dir;

    @Test
    void aStatementIsReusedUntilItFailsThenCompiledAfresh() throws Exception {
        ReaderStatements statements = new ReaderStatements();
        try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + dir.resolve("r.db"))) {
            c.createStatement().execute("CREATE TABLE t(x INTEGER)");
            c.createStatement().execute("INSERT INTO t VALUES (1), (2), (3)");
            String sql = "SELECT count(*) FROM t WHERE x >= ?";
            PreparedStatement first = statements.prepare(c, sql);
            first.setInt(1, 2);
            try (ResultSet rs = first.executeQuery()) {
                assertTrue(rs.next());
                assertEquals(2, rs.getInt(1));
            }
            PreparedStatement again = statements.prepare(c, sql);
            assertSame(first, again, "the same SQL on the same connection reuses the compiled statement");
            again.setInt(1, 3);
            try (ResultSet rs = again.executeQuery()) {
                assertTrue(rs.next());
                assertEquals(1, rs.getInt(1), "with its new parameters");
            }
            statements.discard(c, sql); // as after an interrupted (over-budget) run
            assertTrue(first.isClosed(), "a discarded statement is closed");
            assertEquals(0, statements.cachedOn(c));
            PreparedStatement fresh = statements.prepare(c, sql);
            assertNotSame(first, fresh);
            fresh.setInt(1, 1);
            try (ResultSet rs = fresh.executeQuery()) {
                assertTrue(rs.next());
                assertEquals(3, rs.getInt(1));
            }
        }
    }
}
