package dev.nexus.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.nexus.core.Event;
import dev.nexus.core.testing.NostrKey;
import dev.nexus.server.nip86.Nip98Authorization;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Base64;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** NIP-86 over real HTTP with real NIP-98 events, against a real relay on a real SQLite file. */
class Nip86ManagementRelayTest {
    private static final HttpClient HTTP = HttpClient.newHttpClient();
    @TempDir Path dir;
    private final NostrKey operator = NostrKey.generate();
    private final NostrKey admin = NostrKey.generate();
    private final NostrKey stranger = NostrKey.generate();
    private final NostrKey mallory = NostrKey.generate();
    private final NostrKey alice = NostrKey.generate();

    private String toml(String extra) {
        return "[server]\npubkey = \"" + operator.pubkey() + "\"\n[auth]\nrequired = \"writes\"\n"
                + "[management]\nadmin_pubkeys = [\"" + admin.pubkey() + "\"]\n" + extra;
    }

    @Test
    void onlyFreshCorrectlySignedCallsFromOperatorKeysAreAnswered() throws Exception {
        try (TestRelay relay = TestRelay.start(dir, toml(""))) {
            String url = httpUrl(relay);
            String body = "{\"method\":\"supportedmethods\",\"params\":[]}";
            long now = System.currentTimeMillis() / 1000;

            HttpResponse<String> ok = post(relay, body, header(operator, url, "POST", sha256(body), now));
            assertEquals(200, ok.statusCode(), ok.body());
            JsonNode methods = RelayClient.JSON.readTree(ok.body()).get("result");
            assertTrue(methods.toString().contains("\"banpubkey\""), ok.body());
            assertTrue(methods.toString().contains("\"listeventsneedingmoderation\""), ok.body());
            assertEquals(200, post(relay, body, header(admin, url, "POST", sha256(body), now)).statusCode(), "a listed admin key may call too");

            assertUnauthorized(post(relay, body, header(operator, url, "POST", sha256(body), now - 120)), "created_at");
            assertUnauthorized(post(relay, body, header(operator, url, "POST", sha256(body), now + 120)), "created_at");
            assertUnauthorized(post(relay, body, header(operator, "https://other.example.com/", "POST", sha256(body), now)), "u tag");
            assertUnauthorized(post(relay, body, header(operator, url, "GET", sha256(body), now)), "method");
            String other = "{\"method\":\"banpubkey\",\"params\":[\"" + alice.pubkey() + "\"]}";
            assertUnauthorized(post(relay, other, header(operator, url, "POST", sha256(body), now)), "payload");
            assertUnauthorized(post(relay, body, header(stranger, url, "POST", sha256(body), now)), "may not manage");
            assertUnauthorized(post(relay, body, null), "Authorization");

            Event real = nip98(operator, url, "POST", sha256(body), now);
            Event otherSigned = operator.sign(27235, List.of(List.of("u", url)), "", now);
            Event forged = new Event(real.id(), real.pubkey(), real.createdAt(), real.kind(), real.tags(), real.content(), otherSigned.sig());
            assertUnauthorized(post(relay, body, encode(forged)), "signature");
            Event tampered = new Event(real.id(), real.pubkey(), real.createdAt(), real.kind(), real.tags(), "changed", real.sig());
            assertUnauthorized(post(relay, body, encode(tampered)), "base64 Nostr event");

            JsonNode unknown = call(relay, operator, "{\"method\":\"nosuchmethod\",\"params\":[]}");
            assertTrue(unknown.get("result").isNull());
            assertTrue(unknown.get("error").asText().contains("unsupported"), unknown.toString());
        }
    }

    @Test
    void managementCallsSpendTheCallersReqBudgetSoOneAddressCannotKeepTheSignatureChecksBusy() throws Exception {
        String limits = "[rate_limits]\nexempt_ips = []\nreqs_per_second = 0.1\nreqs_burst = 3\n";
        try (TestRelay relay = TestRelay.start(dir, toml(limits))) {
            String url = httpUrl(relay);
            String body = "{\"method\":\"supportedmethods\",\"params\":[]}";
            long now = System.currentTimeMillis() / 1000;
            Event real = nip98(operator, url, "POST", sha256(body), now);
            Event otherSigned = operator.sign(27235, List.of(List.of("u", url)), "", now);
            String forged = encode(new Event(real.id(), real.pubkey(), real.createdAt(), real.kind(), real.tags(), real.content(), otherSigned.sig()));
            for (int i = 0; i < 3; i++) assertUnauthorized(post(relay, body, forged), "signature");
            HttpResponse<String> limited = post(relay, body, forged);
            assertEquals(429, limited.statusCode(), limited.body());
            assertTrue(RelayClient.JSON.readTree(limited.body()).get("error").asText().startsWith("rate-limited:"), limited.body());
            HttpResponse<String> operatorToo = post(relay, body, header(operator, url, "POST", sha256(body), now));
            assertEquals(429, operatorToo.statusCode(), "the budget is the address's, whoever signs");
        }
    }

    @Test
    void banningAPubkeyRefusesItsEventsOnALiveConnectionAndHidesWhatItStored() throws Exception {
        try (TestRelay relay = TestRelay.start(dir, toml(""));
             RelayClient bad = RelayClient.connect(relay);
             RelayClient reader = RelayClient.connect(relay)) {
            bad.authenticate(mallory, relay);
            Event before = mallory.sign(1, "spam before the ban");
            assertTrue(bad.publishAndWait(before).get(2).asBoolean());
            String byMallory = "{\"authors\":[\"" + mallory.pubkey() + "\"]}";
            assertEquals(List.of(before.id()), reader.queryIds("q1", byMallory));
            reader.req("live", byMallory);
            assertEquals(1, reader.eventsFor("live", 1, 5000).size(), "the stored event before EOSE");

            JsonNode banned = call(relay, operator, "{\"method\":\"banpubkey\",\"params\":[\"" + mallory.pubkey() + "\",\"spam\"]}");
            assertEquals(true, banned.get("result").asBoolean(), banned.toString());

            JsonNode refused = bad.publishAndWait(mallory.sign(1, "spam after the ban"));
            assertFalse(refused.get(2).asBoolean(), refused.toString());
            assertTrue(refused.get(3).asText().startsWith("blocked:"), refused.toString());
            assertEquals(List.of(), reader.queryIds("q2", byMallory), "a banned author's stored events are no longer served");
            assertEquals(List.of(), reader.eventsFor("live", 1, 300));

            JsonNode list = call(relay, admin, "{\"method\":\"listbannedpubkeys\",\"params\":[]}");
            assertEquals("[{\"pubkey\":\"" + mallory.pubkey() + "\",\"reason\":\"spam\"}]", list.get("result").toString());

            call(relay, operator, "{\"method\":\"unbanpubkey\",\"params\":[\"" + mallory.pubkey() + "\"]}");
            assertEquals(List.of(before.id()), reader.queryIds("q3", byMallory), "unbanning serves them again");
            assertTrue(bad.publishAndWait(mallory.sign(1, "welcome back")).get(2).asBoolean());
        }
    }

    @Test
    void aBannedEventIsDeletedAndCannotBePublishedAgainUntilAllowed() throws Exception {
        try (TestRelay relay = TestRelay.start(dir, toml(""));
             RelayClient client = RelayClient.connect(relay)) {
            client.authenticate(alice, relay);
            Event note = alice.sign(1, "to be banned");
            assertTrue(client.publishAndWait(note).get(2).asBoolean());
            String byId = "{\"ids\":[\"" + note.id() + "\"]}";
            assertEquals(List.of(note.id()), client.queryIds("a", byId));

            assertEquals(true, call(relay, operator, "{\"method\":\"banevent\",\"params\":[\"" + note.id() + "\",\"illegal\"]}").get("result").asBoolean());
            assertEquals(List.of(), client.queryIds("b", byId));
            JsonNode again = client.publishAndWait(note);
            assertFalse(again.get(2).asBoolean(), again.toString());
            assertTrue(again.get(3).asText().startsWith("blocked:"), again.toString());
            assertEquals("[{\"id\":\"" + note.id() + "\",\"reason\":\"illegal\"}]",
                    call(relay, operator, "{\"method\":\"listbannedevents\",\"params\":[]}").get("result").toString());
            assertEquals("[]", call(relay, operator, "{\"method\":\"listeventsneedingmoderation\",\"params\":[]}").get("result").toString());

            call(relay, operator, "{\"method\":\"allowevent\",\"params\":[\"" + note.id() + "\"]}");
            assertTrue(client.publishAndWait(note).get(2).asBoolean());
            assertEquals(List.of(note.id()), client.queryIds("c", byId));
        }
    }

    @Test
    void aBlockedIpIsDisconnectedAndRefused() throws Exception {
        try (TestRelay relay = TestRelay.start(dir, toml(""));
             RelayClient client = RelayClient.connect(relay)) {
            JsonNode blocked = call(relay, operator, "{\"method\":\"blockip\",\"params\":[\"127.0.0.1\",\"abuse\"]}");
            assertEquals(true, blocked.get("result").asBoolean(), blocked.toString());
            long deadline = System.currentTimeMillis() + 5000;
            while (!client.closed && System.currentTimeMillis() < deadline) Thread.sleep(20);
            assertTrue(client.closed, "the open connection from the blocked address is closed");
            assertThrows(Exception.class, () -> RelayClient.connect(relay), "new connections from it are refused");
        }
    }

    @Test
    void nameDescriptionAndIconShowInNip11AndEverythingSurvivesARestart() throws Exception {
        try (TestRelay relay = TestRelay.start(dir, toml(""))) {
            assertTrue(nip11(relay).get("supported_nips").toString().contains("86"));
            call(relay, operator, "{\"method\":\"changerelayname\",\"params\":[\"Renamed\"]}");
            call(relay, operator, "{\"method\":\"changerelaydescription\",\"params\":[\"a moderated relay\"]}");
            call(relay, operator, "{\"method\":\"changerelayicon\",\"params\":[\"https://example.com/icon.png\"]}");
            JsonNode info = nip11(relay);
            assertEquals("Renamed", info.get("name").asText());
            assertEquals("a moderated relay", info.get("description").asText());
            assertEquals("https://example.com/icon.png", info.get("icon").asText());

            call(relay, operator, "{\"method\":\"banpubkey\",\"params\":[\"" + mallory.pubkey() + "\",\"spam\"]}");
            call(relay, operator, "{\"method\":\"allowpubkey\",\"params\":[\"" + alice.pubkey() + "\"]}");
            call(relay, operator, "{\"method\":\"disallowkind\",\"params\":[4]}");
            call(relay, operator, "{\"method\":\"blockip\",\"params\":[\"203.0.113.7\"]}");
            call(relay, operator, "{\"method\":\"banevent\",\"params\":[\"" + "ab".repeat(32) + "\"]}");

            relay.restart();

            info = nip11(relay);
            assertEquals("Renamed", info.get("name").asText());
            assertEquals("https://example.com/icon.png", info.get("icon").asText());
            assertEquals("[{\"pubkey\":\"" + mallory.pubkey() + "\",\"reason\":\"spam\"}]",
                    call(relay, admin, "{\"method\":\"listbannedpubkeys\",\"params\":[]}").get("result").toString());
            assertEquals("[{\"pubkey\":\"" + alice.pubkey() + "\"}]",
                    call(relay, admin, "{\"method\":\"listallowedpubkeys\",\"params\":[]}").get("result").toString());
            assertEquals("[{\"ip\":\"203.0.113.7\"}]", call(relay, admin, "{\"method\":\"listblockedips\",\"params\":[]}").get("result").toString());
            assertEquals("[{\"id\":\"" + "ab".repeat(32) + "\"}]", call(relay, admin, "{\"method\":\"listbannedevents\",\"params\":[]}").get("result").toString());
            try (RelayClient client = RelayClient.connect(relay)) {
                client.authenticate(alice, relay);
                JsonNode kind4 = client.publishAndWait(alice.sign(4, "disallowed kind"));
                assertFalse(kind4.get(2).asBoolean(), kind4.toString());
                assertTrue(client.publishAndWait(alice.sign(1, "allowed")).get(2).asBoolean());
            }
            try (RelayClient bad = RelayClient.connect(relay)) {
                Event auth = mallory.sign(dev.nexus.core.Kinds.AUTH, List.of(List.of("relay", relay.url()), List.of("challenge", bad.challenge())), "");
                bad.send("[\"AUTH\"," + auth.json() + "]");
                assertTrue(bad.ok(auth.id()).get(3).asText().startsWith("blocked:"), "the ban is in force after the restart");
            }
        }
    }

    @Test
    void disabledManagementAnswersNoCallsAndIsNotAdvertised() throws Exception {
        try (TestRelay relay = TestRelay.start(dir, toml("enabled = false\n"))) {
            assertFalse(nip11(relay).get("supported_nips").toString().contains("86"));
            String body = "{\"method\":\"supportedmethods\",\"params\":[]}";
            HttpResponse<String> res = post(relay, body, header(operator, httpUrl(relay), "POST", sha256(body), System.currentTimeMillis() / 1000));
            assertEquals(405, res.statusCode());
        }
        try (TestRelay relay = TestRelay.start(dir, "[auth]\nrequired = false\n")) {
            assertFalse(nip11(relay).get("supported_nips").toString().contains("86"), "without an operator key nobody could call it");
        }
    }

    @Test
    void anOversizedBodyIsRefusedBeforeAnythingReadsIt() throws Exception {
        try (TestRelay relay = TestRelay.start(dir, toml(""))) {
            String body = "{\"method\":\"changerelaydescription\",\"params\":[\"" + "x".repeat(64 * 1024) + "\"]}";
            HttpResponse<String> res = post(relay, body, header(operator, httpUrl(relay), "POST", sha256(body), System.currentTimeMillis() / 1000));
            assertEquals(413, res.statusCode());
        }
    }

    private static String httpUrl(TestRelay relay) {
        return "http://127.0.0.1:" + relay.port() + "/";
    }

    static JsonNode nip11(TestRelay relay) throws Exception {
        HttpResponse<String> res = HTTP.send(HttpRequest.newBuilder(URI.create(httpUrl(relay))).header("Accept", "application/nostr+json").GET().build(),
                HttpResponse.BodyHandlers.ofString());
        return RelayClient.JSON.readTree(res.body());
    }

    static JsonNode call(TestRelay relay, NostrKey key, String body) throws Exception {
        HttpResponse<String> res = post(relay, body, header(key, httpUrl(relay), "POST", sha256(body), System.currentTimeMillis() / 1000));
        assertEquals(200, res.statusCode(), res.body());
        assertEquals("application/json", res.headers().firstValue("content-type").orElse(""));
        JsonNode answer = RelayClient.JSON.readTree(res.body());
        if (!body.contains("nosuchmethod")) assertNull(answer.get("error"), res.body());
        return answer;
    }

    private static HttpResponse<String> post(TestRelay relay, String body, String authorization) throws Exception {
        HttpRequest.Builder req = HttpRequest.newBuilder(URI.create(httpUrl(relay)))
                .header("Content-Type", "application/nostr+json+rpc")
                .POST(HttpRequest.BodyPublishers.ofString(body));
        if (authorization != null) req.header("Authorization", authorization);
        return HTTP.send(req.build(), HttpResponse.BodyHandlers.ofString());
    }

    private static void assertUnauthorized(HttpResponse<String> res, String why) throws Exception {
        assertEquals(401, res.statusCode(), res.body());
        JsonNode answer = RelayClient.JSON.readTree(res.body());
        assertTrue(answer.get("result").isNull(), res.body());
        assertTrue(answer.get("error").asText().contains(why), res.body());
    }

    private static Event nip98(NostrKey key, String url, String method, String payload, long createdAt) {
        return key.sign(27235, List.of(List.of("u", url), List.of("method", method), List.of("payload", payload)), "", createdAt);
    }

    private static String header(NostrKey key, String url, String method, String payload, long createdAt) {
        return encode(nip98(key, url, method, payload, createdAt));
    }

    private static String encode(Event e) {
        return "Nostr " + Base64.getEncoder().encodeToString(e.json().getBytes(StandardCharsets.UTF_8));
    }

    private static String sha256(String body) {
        return Nip98Authorization.sha256Hex(body.getBytes(StandardCharsets.UTF_8));
    }
}
