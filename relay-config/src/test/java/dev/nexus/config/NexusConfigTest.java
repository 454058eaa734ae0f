package dev.nexus.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.nexus.core.MarketplaceKinds;
import java.nio.file.Files;
import java.util.List;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class NexusConfigTest {

    @Test
    void anEmptyConfigGivesTheDocumentedDefaults() throws Exception {
        NexusConfig c = NexusConfig.parse("");
        assertEquals("127.0.0.1", c.server().host());
        assertEquals(7777, c.server().port());
        assertEquals("ws://127.0.0.1:7777", c.server().publicUrl());
        assertEquals("./data/nexus.db", c.storage().path());
        assertEquals(NexusConfig.AuthMode.ALWAYS, c.auth().required());
        assertEquals(524288, c.limits().maxMessageBytes());
        assertEquals(20, c.limits().maxSubscriptions());
        assertEquals(10, c.limits().maxFilters());
        assertEquals(500, c.limits().maxLimit());
        assertEquals(64, c.limits().maxSubidLength());
        assertEquals(86400, c.retention().jobRequestSeconds());
        assertEquals(604800, c.retention().jobResultSeconds());
        assertEquals(86400, c.retention().jobFeedbackSeconds());
        assertTrue(c.server().warmUp(), "the relay warms its JIT before it opens its port unless told not to");
        assertFalse(NexusConfig.parse("[server]\nwarm_up = false\n").server().warmUp());
    }

    @Test
    void byDefaultJobTrafficIsNip90TheDvmDraftAndContextVmAndOneAgentMaySendHundredsOfJobsASecond() throws Exception {
        NexusConfig c = NexusConfig.parse("");
        MarketplaceKinds m = c.marketplace().kinds();
        assertEquals(List.of("5000-5999", "68001"), m.jobRequests().specs());
        assertEquals(List.of("6000-6999", "68002"), m.jobResults().specs());
        assertEquals(List.of("7000"), m.jobFeedback().specs());
        assertEquals(List.of("25910"), m.agentMessages().specs());
        assertTrue(c.rateLimits().jobsPerSecond() >= 100, "a pool must sustain 100 jobs/s");
        assertTrue(c.rateLimits().jobsBurst() >= 200, "a pool must burst a few hundred");
        assertTrue(c.auth().openKinds().isEmpty());
        assertTrue(c.rateLimits().pubkeyBudgets().isEmpty());
    }

    @Test
    void marketplaceKindsOpenKindsAndPubkeyBudgetsAreRead() throws Exception {
        String pool = "a".repeat(64), buyer = "b".repeat(64);
        NexusConfig c = NexusConfig.parse("""
                [auth]
                open_kinds = [25910, 1059, "11316-11320"]
                [marketplace]
                job_kinds = ["5050", "5930-5933"]
                result_kinds = [6050]
                feedback_kinds = []
                agent_kinds = ["25000-25999"]
                [rate_limits]
                jobs_per_second = 10.0
                [[rate_limits.pubkey]]
                pubkey = "%s"
                jobs_per_second = 1000.0
                jobs_burst = 5000
                [[rate_limits.pubkey]]
                pubkey = "%s"
                events_per_second = 0
                """.formatted(pool, buyer));
        assertTrue(c.auth().openKinds().contains(1059) && c.auth().openKinds().contains(11318));
        assertFalse(c.auth().requiredToPublish(25910));
        assertTrue(c.auth().requiredToPublish(1));
        MarketplaceKinds m = c.marketplace().kinds();
        assertTrue(m.isJobTraffic(5932) && m.isJobTraffic(25500));
        assertFalse(m.isJobTraffic(5000) || m.isJobTraffic(7000));
        NexusConfig.Budget own = c.rateLimits().budgetOf(pool);
        assertEquals(1000.0, own.jobsPerSecond());
        assertEquals(5000, own.jobsBurst());
        assertEquals(50.0, own.eventsPerSecond(), "keys a pubkey table leaves out are the section's");
        assertEquals(0.0, c.rateLimits().budgetOf(buyer).eventsPerSecond());
        assertEquals(10.0, c.rateLimits().budgetOf(buyer).jobsPerSecond(), "inherits the section's jobs rate");
        assertEquals(10.0, c.rateLimits().budgetOf("c".repeat(64)).jobsPerSecond());
    }

    @Test
    void badKindRangesAndPubkeyBudgetsAreErrorsThatNameTheKey() {
        for (String[] bad : new String[][] {
                {"[marketplace]\njob_kinds = [\"5999-5000\"]\n", "[marketplace].job_kinds"},
                {"[marketplace]\nresult_kinds = [-1]\n", "[marketplace].result_kinds"},
                {"[marketplace]\nagent_kinds = \"25910\"\n", "[marketplace].agent_kinds"},
                {"[auth]\nopen_kinds = [1.5]\n", "[auth].open_kinds"},
                {"[marketplace]\njobkinds = []\n", "jobkinds"},
                {"[[rate_limits.pubkey]]\npubkey = \"npub1\"\n", "pubkey"},
                {"[[rate_limits.pubkey]]\npubkey = \"%s\"\njobs_per_secnd = 3\n".formatted("a".repeat(64)), "jobs_per_secnd"}}) {
            ConfigException e = assertThrows(ConfigException.class, () -> NexusConfig.parse(bad[0]), bad[0]);
            assertTrue(e.getMessage().contains(bad[1]), e.getMessage());
        }
    }

    @Test
    void theShippedExampleConfigIsValidAndEqualsTheDefaults() throws Exception {
        Path example = Path.of("..", "nexus.toml");
        assertEquals(NexusConfig.defaults(), NexusConfig.load(example));
    }

    @Test
    void operatorKeysAreRead() throws Exception {
        NexusConfig c = NexusConfig.parse("""
                [server]
                bind = "0.0.0.0:8080"
                name = "agents"
                url = "wss://relay.example.com"
                pubkey = "%s"
                [storage]
                path = "/var/lib/nexus/db.sqlite"
                [auth]
                required = "writes"
                denied_pubkeys = ["%s"]
                [limits]
                max_filters = 4
                """.formatted("a".repeat(64), "b".repeat(64)));
        assertEquals("0.0.0.0", c.server().host());
        assertEquals(8080, c.server().port());
        assertEquals("wss://relay.example.com", c.server().publicUrl());
        assertEquals(NexusConfig.AuthMode.WRITES, c.auth().required());
        assertFalse(c.auth().requiredForReads());
        assertTrue(c.auth().requiredForWrites());
        assertTrue(c.auth().deniedPubkeys().contains("b".repeat(64)));
        assertEquals(4, c.limits().maxFilters());
    }

    @Test
    void thePostgresBackendIsChosenInStorageAndNeedsItsUri() throws Exception {
        assertEquals(NexusConfig.Backend.SQLITE, NexusConfig.parse("").storage().backend());
        NexusConfig c = NexusConfig.parse("[storage]\nbackend = \"postgres\"\npostgres_url = \"postgresql://127.0.0.1:5432/nexus?user=nexus\"\n");
        assertEquals(NexusConfig.Backend.POSTGRES, c.storage().backend());
        assertEquals("postgresql://127.0.0.1:5432/nexus?user=nexus", c.storage().postgresUrl());
        assertEquals(5000, c.storage().postgresConnectTimeoutMs());
        ConfigException missing = assertThrows(ConfigException.class, () -> NexusConfig.parse("[storage]\nbackend = \"postgres\"\n"));
        assertTrue(missing.getMessage().contains("[storage].postgres_url"), missing.getMessage());
        assertThrows(ConfigException.class, () -> NexusConfig.parse("[storage]\nbackend = \"mysql\"\n"));
        assertThrows(ConfigException.class, () -> NexusConfig.parse("[storage]\npostgres_url = \"jdbc:postgresql://h/db\"\n"));
    }

    @Test
    void metricsAreServedToLoopbackByDefaultAndTheirKeysAreChecked() throws Exception {
        NexusConfig.Metrics d = NexusConfig.defaults().metrics();
        assertTrue(d.enabled());
        assertFalse(d.allowRemote());
        assertEquals(60, d.summaryLogSeconds());
        NexusConfig.Metrics m = NexusConfig.parse("[metrics]\nenabled = false\nallow_remote = true\nsummary_log_seconds = 0\n").metrics();
        assertEquals(new NexusConfig.Metrics(false, true, 0), m);
        assertTrue(assertThrows(ConfigException.class, () -> NexusConfig.parse("[metrics]\nbind = \"0.0.0.0:9100\"\n"))
                .getMessage().contains("[metrics].bind"));
        assertTrue(assertThrows(ConfigException.class, () -> NexusConfig.parse("[metrics]\nallow_remote = \"yes\"\n"))
                .getMessage().contains("[metrics].allow_remote"));
        assertTrue(assertThrows(ConfigException.class, () -> NexusConfig.parse("[metrics]\nsummary_log_seconds = -1\n"))
                .getMessage().contains("[metrics].summary_log_seconds"));
    }

    @Test
    void managementIsServedOnlyWhenEnabledAndSomeKeyMayCallIt() throws Exception {
        String key = "ab".repeat(32);
        assertTrue(NexusConfig.defaults().management().enabled());
        assertFalse(NexusConfig.defaults().managementServed(), "nobody could call it");
        assertTrue(NexusConfig.parse("[server]\npubkey = \"" + key + "\"\n").managementServed());
        NexusConfig admins = NexusConfig.parse("[management]\nadmin_pubkeys = [\"" + key + "\"]\n");
        assertEquals(java.util.Set.of(key), admins.management().adminPubkeys());
        assertTrue(admins.managementServed());
        assertFalse(NexusConfig.parse("[management]\nenabled = false\nadmin_pubkeys = [\"" + key + "\"]\n").managementServed());
        assertTrue(assertThrows(ConfigException.class, () -> NexusConfig.parse("[management]\nadmin_pubkeys = [\"npub1xyz\"]\n"))
                .getMessage().contains("[management].admin_pubkeys"));
        assertTrue(assertThrows(ConfigException.class, () -> NexusConfig.parse("[management]\nadmins = []\n"))
                .getMessage().contains("[management].admins"));
    }

    @Test
    void anUnknownKeyIsAnErrorThatNamesIt() {
        ConfigException e = assertThrows(ConfigException.class, () -> NexusConfig.parse("[limits]\nmax_filtres = 3\n"));
        assertTrue(e.getMessage().contains("[limits].max_filtres"), e.getMessage());
        ConfigException s = assertThrows(ConfigException.class, () -> NexusConfig.parse("[limitz]\nx = 1\n"));
        assertTrue(s.getMessage().contains("limitz"), s.getMessage());
    }

    @Test
    void aWrongTypeIsAnErrorThatNamesTheKey() {
        ConfigException e = assertThrows(ConfigException.class, () -> NexusConfig.parse("[limits]\nmax_limit = \"lots\"\n"));
        assertTrue(e.getMessage().contains("[limits].max_limit"), e.getMessage());
        ConfigException b = assertThrows(ConfigException.class, () -> NexusConfig.parse("[auth]\nrequired = \"sometimes\"\n"));
        assertTrue(b.getMessage().contains("[auth].required"), b.getMessage());
    }

    @Test
    void aBadValueIsAnErrorThatNamesTheKey() {
        assertTrue(assertThrows(ConfigException.class, () -> NexusConfig.parse("[server]\nbind = \"localhost\"\n"))
                .getMessage().contains("[server].bind"));
        assertTrue(assertThrows(ConfigException.class, () -> NexusConfig.parse("[server]\nbind = \"localhost:99999\"\n"))
                .getMessage().contains("[server].bind"));
        assertTrue(assertThrows(ConfigException.class, () -> NexusConfig.parse("[limits]\nmax_subscriptions = 0\n"))
                .getMessage().contains("[limits].max_subscriptions"));
        assertTrue(assertThrows(ConfigException.class, () -> NexusConfig.parse("[server]\nurl = \"http://x\"\n"))
                .getMessage().contains("[server].url"));
        assertTrue(assertThrows(ConfigException.class, () -> NexusConfig.parse("[server]\nreal_ip_header = \"X-Forwarded-For:\"\n"))
                .getMessage().contains("[server].real_ip_header"));
        assertTrue(assertThrows(ConfigException.class, () -> NexusConfig.parse("[server]\ntls_cert = \"/etc/hosts\"\n"))
                .getMessage().contains("[server].tls_key"), "a certificate without its key");
        assertTrue(assertThrows(ConfigException.class,
                () -> NexusConfig.parse("[server]\ntls_cert = \"/nonexistent/cert.pem\"\ntls_key = \"/nonexistent/key.pem\"\n"))
                .getMessage().contains("[server].tls_cert"));
        assertTrue(assertThrows(ConfigException.class, () -> NexusConfig.parse("[auth]\nallowed_pubkeys = [\"npub1xyz\"]\n"))
                .getMessage().contains("[auth].allowed_pubkeys"));
    }

    @Test
    void invalidTomlIsReported() {
        assertTrue(assertThrows(ConfigException.class, () -> NexusConfig.parse("[server\nbind=")).getMessage().contains("TOML"));
    }

    @Test
    void aMissingFileIsReported(@TempDir Path dir) {
        assertTrue(assertThrows(ConfigException.class, () -> NexusConfig.load(dir.resolve("nope.toml"))).getMessage().contains("nope.toml"));
    }

    @Test
    void aConfigFileIsLoaded(@TempDir Path dir) throws Exception {
        Path f = dir.resolve("n.toml");
        Files.writeString(f, "[server]\nbind = \"127.0.0.1:0\"\n");
        assertEquals(0, NexusConfig.load(f).server().port());
    }

    @Test
    void syncPeersAreReadWithTheirDefaults() throws Exception {
        NexusConfig c = NexusConfig.parse("""
                [sync]
                secret_key_file = "/etc/nexus/sync.key"
                [[sync.peers]]
                name = "eu"
                url = "wss://eu.relay.example"
                filter = '{"kinds":[31990]}'
                direction = "both"
                interval_seconds = 60
                window_seconds = 3600
                [[sync.peers]]
                url = "ws://10.0.0.2:7777"
                """);
        assertEquals("/etc/nexus/sync.key", c.sync().secretKeyFile());
        assertEquals(List.of(
                new NexusConfig.SyncPeer("eu", "wss://eu.relay.example", "{\"kinds\":[31990]}", NexusConfig.SyncDirection.BOTH, 60, 3600),
                new NexusConfig.SyncPeer("ws://10.0.0.2:7777", "ws://10.0.0.2:7777", "{}", NexusConfig.SyncDirection.DOWN, 300, 0)),
                c.sync().peers());
        assertTrue(NexusConfig.parse("").sync().peers().isEmpty());
    }

    @Test
    void badSyncPeersAreErrorsThatNameTheKey() {
        for (String[] bad : new String[][] {
                {"[[sync.peers]]\nurl = \"https://relay.example\"\n", "[sync.peers][0].url"},
                {"[[sync.peers]]\n", "[sync.peers][0].url"},
                {"[[sync.peers]]\nurl = \"ws://a\"\nfilter = '{\"kinds\":\"1\"}'\n", "[sync.peers][0].filter"},
                {"[[sync.peers]]\nurl = \"ws://a\"\nfilter = 'kinds=1'\n", "[sync.peers][0].filter"},
                {"[[sync.peers]]\nurl = \"ws://a\"\ndirection = \"sideways\"\n", "[sync.peers][0].direction"},
                {"[[sync.peers]]\nurl = \"ws://a\"\ninterval_seconds = 0\n", "[sync.peers][0].interval_seconds"},
                {"[[sync.peers]]\nurl = \"ws://a\"\nintervl = 5\n", "intervl"},
                {"[[sync.peers]]\nurl = \"ws://a\"\n[[sync.peers]]\nurl = \"ws://a\"\n", "[sync.peers][1].name"},
                {"[sync]\nsecret_key = \"ab\"\n", "[sync].secret_key"}}) {
            ConfigException e = assertThrows(ConfigException.class, () -> NexusConfig.parse(bad[0]), bad[0]);
            assertTrue(e.getMessage().contains(bad[1]), e.getMessage());
        }
    }
}
