package dev.nexus.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.nexus.core.Event;
import dev.nexus.core.testing.NostrKey;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** NIP-01 through a real server, a real WebSocket client and real signatures. */
class Nip01RelayTest {
    private static final long NOW = System.currentTimeMillis() / 1000;
    @TempDir Path dir;
    private TestRelay relay;
    private RelayClient client;
    private final NostrKey alice = NostrKey.generate();
    private final NostrKey bob = NostrKey.generate();

    @BeforeEach
    void start() throws Exception {
        relay = TestRelay.start(dir, storageToml() + "[auth]\nrequired = false\n[limits]\nmax_subscriptions = 3\nmax_filters = 2\nmax_limit = 5\n"
                + "max_message_bytes = 4096\nmax_content_length = 2000\n");
        client = RelayClient.connect(relay);
    }

    /** The [storage] table these tests run on: the default backend here, another in a subclass. */
    protected String storageToml() {
        return "";
    }

    @AfterEach
    void stop() {
        client.close();
        relay.close();
    }

    @Test
    void relaySendsAnAuthChallengeOnConnect() {
        assertTrue(client.challenge().length() >= 16);
    }

    @Test
    void aValidEventIsAcknowledgedWithOkTrueAndReturnedByReq() throws Exception {
        Event e = alice.sign(1, List.of(List.of("t", "hello")), "hello nostr");
        JsonNode ok = client.publishAndWait(e);
        assertEquals(true, ok.get(2).asBoolean(), ok.toString());
        List<JsonNode> found = client.query("s1", "{\"ids\":[\"" + e.id() + "\"]}");
        assertEquals(1, found.size());
        assertEquals(RelayClient.JSON.readTree(e.json()), found.get(0));
    }

    @Test
    void anEventWithABadSignatureIsRejectedAsInvalid() throws Exception {
        Event e = alice.sign(1, "signed");
        String badSig = (e.sig().charAt(5) == '0' ? "1" : "0");
        Event forged = new Event(e.id(), e.pubkey(), e.createdAt(), e.kind(), e.tags(), e.content(), e.sig().substring(0, 5) + badSig + e.sig().substring(6));
        JsonNode ok = client.publishAndWait(forged);
        assertFalse(ok.get(2).asBoolean());
        assertTrue(ok.get(3).asText().startsWith("invalid:"), ok.toString());
        assertEquals(List.of(), client.queryIds("s", "{\"ids\":[\"" + e.id() + "\"]}"));
    }

    @Test
    void anEventWhoseIdIsNotItsHashIsRejectedAsInvalid() throws Exception {
        Event e = alice.sign(1, "original");
        String tampered = e.json().replace("\"original\"", "\"tampered\"");
        client.send("[\"EVENT\"," + tampered + "]");
        JsonNode ok = client.ok(e.id());
        assertFalse(ok.get(2).asBoolean());
        assertTrue(ok.get(3).asText().startsWith("invalid:"), ok.toString());
    }

    @Test
    void aDuplicateEventIsASuccessAnsweredWithTheDuplicatePrefix() throws Exception {
        Event e = alice.sign(1, "twice");
        assertTrue(client.publishAndWait(e).get(2).asBoolean());
        JsonNode again = client.publishAndWait(e);
        assertTrue(again.get(2).asBoolean(), "NIP-01: [\"OK\", id, true, \"duplicate: already have this event\"]");
        assertTrue(again.get(3).asText().startsWith("duplicate:"), again.toString());
    }

    @Test
    void anEventTooFarInTheFutureIsRejectedAsInvalid() throws Exception {
        JsonNode ok = client.publishAndWait(alice.sign(1, List.of(), "from the future", NOW + 3600));
        assertFalse(ok.get(2).asBoolean());
        assertTrue(ok.get(3).asText().startsWith("invalid:"), ok.toString());
    }

    @Test
    void reqReturnsStoredEventsNewestFirstThenEoseThenLiveEvents() throws Exception {
        Event older = alice.sign(1, List.of(), "older", NOW - 20);
        Event newer = alice.sign(1, List.of(), "newer", NOW - 10);
        client.publishAndWait(older);
        client.publishAndWait(newer);
        List<JsonNode> stored = client.query("feed", "{\"authors\":[\"" + alice.pubkey() + "\"]}");
        assertEquals(List.of(newer.id(), older.id()), stored.stream().map(n -> n.get("id").asText()).toList());
        try (RelayClient publisher = RelayClient.connect(relay)) {
            Event live = alice.sign(1, "live");
            publisher.publishAndWait(live);
            Event unrelated = bob.sign(1, "not for this subscription");
            publisher.publishAndWait(unrelated);
            List<JsonNode> got = client.eventsFor("feed", 1, 5000);
            assertEquals(List.of(live.id()), got.stream().map(n -> n.get("id").asText()).toList());
            assertTrue(client.eventsFor("feed", 1, 300).isEmpty());
        }
    }

    @Test
    void closeStopsLiveEventsForThatSubscription() throws Exception {
        client.query("sub", "{\"kinds\":[1]}");
        client.send("[\"CLOSE\",\"sub\"]");
        Thread.sleep(100);
        try (RelayClient publisher = RelayClient.connect(relay)) {
            publisher.publishAndWait(alice.sign(1, "after close"));
        }
        assertTrue(client.eventsFor("sub", 1, 500).isEmpty());
    }

    @Test
    void reqWithAnExistingIdReplacesTheSubscription() throws Exception {
        client.query("same", "{\"kinds\":[1]}");
        client.query("same", "{\"kinds\":[7]}");
        client.publishAndWait(alice.sign(1, "kind one"));
        Event reaction = alice.sign(7, "+");
        client.publishAndWait(reaction);
        List<JsonNode> got = client.eventsFor("same", 2, 1000);
        assertEquals(List.of(reaction.id()), got.stream().map(n -> n.get("id").asText()).toList());
    }

    @Test
    void severalFiltersInOneReqAreOred() throws Exception {
        Event a = alice.sign(1, "a");
        Event b = bob.sign(7, "b");
        client.publishAndWait(a);
        client.publishAndWait(b);
        client.publishAndWait(bob.sign(1, "c"));
        List<String> ids = client.queryIds("or", "{\"authors\":[\"" + alice.pubkey() + "\"]}", "{\"kinds\":[7]}");
        assertEquals(2, ids.size());
        assertTrue(ids.containsAll(List.of(a.id(), b.id())));
    }

    @Test
    void limitCapsStoredResultsAndTheConfiguredMaxCapsLimit() throws Exception {
        for (int i = 0; i < 8; i++) client.publishAndWait(alice.sign(1, List.of(), "n" + i, NOW - 100 + i));
        assertEquals(2, client.queryIds("l2", "{\"kinds\":[1],\"limit\":2}").size());
        assertEquals(5, client.queryIds("l100", "{\"kinds\":[1],\"limit\":100}").size());
        assertEquals(5, client.queryIds("none", "{\"kinds\":[1]}").size());
        assertEquals(0, client.queryIds("zero", "{\"kinds\":[1],\"limit\":0}").size());
    }

    @Test
    void countAnswersHowManyStoredEventsMatchAnyFilterUncappedByLimitNip45() throws Exception {
        for (int i = 0; i < 7; i++) client.publishAndWait(alice.sign(1, List.of(), "c" + i, NOW - i));
        client.publishAndWait(bob.sign(7, "r"));
        client.send("[\"COUNT\",\"notes\",{\"kinds\":[1],\"limit\":2}]");
        JsonNode notes = client.next(m -> m.get(0).asText().equals("COUNT") && m.get(1).asText().equals("notes"), 5000);
        assertEquals(7, notes.get(2).get("count").asLong(), "neither the filter's limit nor max_limit (5) caps a count");
        client.send("[\"COUNT\",\"both\",{\"authors\":[\"" + alice.pubkey() + "\"]},{\"kinds\":[1,7]}]");
        JsonNode both = client.next(m -> m.get(0).asText().equals("COUNT") && m.get(1).asText().equals("both"), 5000);
        assertEquals(8, both.get(2).get("count").asLong(), "filters are OR'd and an event is counted once");
        client.send("[\"COUNT\",\"bad\",{\"kinds\":[\"one\"]}]");
        JsonNode closed = client.next(m -> m.get(0).asText().equals("CLOSED") && m.get(1).asText().equals("bad"), 5000);
        assertTrue(closed.get(2).asText().startsWith("invalid:"), closed.toString());
    }

    @Test
    void ephemeralEventsAreFannedOutButNeverStored() throws Exception {
        client.query("eph", "{\"kinds\":[20001]}");
        try (RelayClient publisher = RelayClient.connect(relay)) {
            Event e = alice.sign(20001, "typing...");
            assertTrue(publisher.publishAndWait(e).get(2).asBoolean());
            assertEquals(1, client.eventsFor("eph", 1, 5000).size());
            assertEquals(List.of(), publisher.queryIds("later", "{\"kinds\":[20001]}"));
        }
    }

    @Test
    void replaceableEventsKeepOnlyTheNewestAndAnOlderOneIsRefused() throws Exception {
        client.publishAndWait(alice.sign(0, List.of(), "{\"name\":\"v1\"}", NOW - 10));
        Event v2 = alice.sign(0, List.of(), "{\"name\":\"v2\"}", NOW - 5);
        client.publishAndWait(v2);
        JsonNode stale = client.publishAndWait(alice.sign(0, List.of(), "{\"name\":\"v0\"}", NOW - 20));
        assertFalse(stale.get(2).asBoolean());
        assertTrue(stale.get(3).asText().startsWith("duplicate:"), stale.toString());
        assertEquals(List.of(v2.id()), client.queryIds("meta", "{\"kinds\":[0],\"authors\":[\"" + alice.pubkey() + "\"]}"));
    }

    @Test
    void addressableEventsAreReplacedPerDTag() throws Exception {
        client.publishAndWait(alice.sign(30023, List.of(List.of("d", "post")), "draft", NOW - 10));
        Event fin = alice.sign(30023, List.of(List.of("d", "post")), "final", NOW - 5);
        Event other = alice.sign(30023, List.of(List.of("d", "other")), "other", NOW - 5);
        client.publishAndWait(fin);
        client.publishAndWait(other);
        List<String> ids = client.queryIds("addr", "{\"kinds\":[30023]}");
        assertEquals(2, ids.size());
        assertTrue(ids.containsAll(List.of(fin.id(), other.id())));
    }

    @Test
    void malformedFramesAreAnsweredWithNoticeAndTheConnectionKeepsWorking() throws Exception {
        for (String bad : List.of("this is not json", "[\"UNKNOWN\",1]", "{\"EVENT\":1}", "[\"CLOSE\"]", "[\"REQ\",\"x\"")) {
            client.send(bad);
            JsonNode notice = client.expect("NOTICE", 5000);
            assertTrue(notice.get(1).asText().startsWith("invalid:"), notice.toString());
        }
        client.sendBinary(new byte[] {1, 2, 3});
        assertNotNull(client.expect("NOTICE", 5000));
        assertTrue(client.publishAndWait(alice.sign(1, "still here")).get(2).asBoolean());
    }

    @Test
    void invalidFiltersAreAnsweredWithClosed() throws Exception {
        client.send("[\"REQ\",\"bad\",{\"ids\":[\"XYZ\"]}]");
        JsonNode closed = client.expect("CLOSED", 5000);
        assertEquals("bad", closed.get(1).asText());
        assertTrue(closed.get(2).asText().startsWith("invalid:"), closed.toString());
    }

    @Test
    void limitsAreEnforcedWithMachineReadableMessages() throws Exception {
        client.send("[\"REQ\",\"f\",{},{},{}]");
        assertTrue(client.expect("CLOSED", 5000).get(2).asText().contains("too many filters"));
        for (int i = 0; i < 3; i++) client.query("s" + i, "{\"kinds\":[1]}");
        client.send("[\"REQ\",\"s3\",{\"kinds\":[1]}]");
        JsonNode closed = client.expect("CLOSED", 5000);
        assertEquals("s3", closed.get(1).asText());
        assertTrue(closed.get(2).asText().startsWith("rate-limited:"), closed.toString());
        client.send("[\"REQ\",\"" + "x".repeat(65) + "\",{}]");
        assertTrue(client.expect("NOTICE", 5000).get(1).asText().contains("subscription id"));
        JsonNode tooLong = client.publishAndWait(alice.sign(1, "y".repeat(2001)));
        assertTrue(tooLong.get(3).asText().startsWith("invalid:"), tooLong.toString());
        assertFalse(client.closed);
    }

    @Test
    void aMessageOverTheSizeLimitClosesOnlyThatConnection() throws Exception {
        try (RelayClient bystander = RelayClient.connect(relay)) {
            client.send("[\"EVENT\",\"" + "z".repeat(5000) + "\"]");
            long deadline = System.currentTimeMillis() + 5000;
            while (!client.closed && System.currentTimeMillis() < deadline) Thread.sleep(20);
            assertTrue(client.closed, "oversized sender should be disconnected");
            assertTrue(bystander.publishAndWait(alice.sign(1, "unaffected")).get(2).asBoolean());
        }
    }

    @Test
    void storedEventsSurviveARestart() throws Exception {
        Event e = alice.sign(1, "persistent");
        assertTrue(client.publishAndWait(e).get(2).asBoolean());
        client.close();
        relay.restart();
        client = RelayClient.connect(relay);
        assertEquals(List.of(e.id()), client.queryIds("after", "{\"ids\":[\"" + e.id() + "\"]}"));
    }

    @Test
    void liveEventsMatchTagFiltersThroughTheIndex() throws Exception {
        client.query("tagged", "{\"kinds\":[5050],\"#p\":[\"" + bob.pubkey() + "\"]}");
        try (RelayClient publisher = RelayClient.connect(relay)) {
            publisher.publishAndWait(alice.sign(5050, List.of(List.of("p", alice.pubkey())), "not for bob"));
            Event forBob = alice.sign(5050, List.of(List.of("p", bob.pubkey())), "for bob");
            publisher.publishAndWait(forBob);
            List<JsonNode> got = client.eventsFor("tagged", 2, 1000);
            assertEquals(List.of(forBob.id()), got.stream().map(n -> n.get("id").asText()).toList());
        }
        assertNull(client.next(m -> m.get(0).asText().equals("EVENT"), 100));
    }
}
