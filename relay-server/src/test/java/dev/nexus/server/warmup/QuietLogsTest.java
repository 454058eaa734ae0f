package dev.nexus.server.warmup;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ch.qos.logback.classic.Level;
import org.junit.jupiter.api.Test;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

class QuietLogsTest {
    @Test
    void whileQuietOnlyWarningsPassExceptFromTheLoggersStillHeardAndAfterwardsEveryLevelIsAsBefore() {
        ch.qos.logback.classic.Logger parent = (ch.qos.logback.classic.Logger) LoggerFactory.getLogger("dev.nexus.quietlogstest");
        parent.setLevel(Level.INFO); // as the relay's own logback.xml has it (tests log at WARN)
        Logger relay = LoggerFactory.getLogger("dev.nexus.quietlogstest.Relay");
        Logger root = LoggerFactory.getLogger("dev.nexus.quietlogstest.Main");
        assertTrue(relay.isInfoEnabled() && root.isInfoEnabled());

        try (QuietLogs quiet = QuietLogs.below("dev.nexus.quietlogstest", "dev.nexus.quietlogstest.Main")) {
            assertFalse(relay.isInfoEnabled());
            assertTrue(relay.isWarnEnabled());
            assertTrue(root.isInfoEnabled(), "a SIGTERM's 'shutting down' is still logged during the warm-up");
        }

        assertTrue(relay.isInfoEnabled() && root.isInfoEnabled());
        assertNull(((ch.qos.logback.classic.Logger) root).getLevel(), "inherits again, as before");
        assertEquals(Level.INFO, parent.getLevel());
        parent.setLevel(null);
    }
}
