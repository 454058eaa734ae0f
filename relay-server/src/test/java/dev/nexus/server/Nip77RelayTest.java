package dev.nexus.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.nexus.core.Event;
import dev.nexus.core.Hex;
import dev.nexus.core.nip77.Negentropy;
import dev.nexus.core.nip77.VectorStorage;
import dev.nexus.core.testing.NostrKey;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** NIP-77 through a real relay and a real WebSocket client running our negentropy engine as initiator. */
class Nip77RelayTest {
    private static final long NOW = System.currentTimeMillis() / 1000;
    private static final String OPEN = "[auth]\nrequired = false\n";
    @TempDir Path dir;
    private final NostrKey alice = NostrKey.generate();

    /** What one sync learnt: ids only we have, ids only the relay has, and how many NEG-MSG round trips it took. */
    record Sync(Set<String> have, Set<String> need, int roundTrips) {}

    static Sync sync(RelayClient client, String subId, String filter, List<Event> local, long frameSizeLimit) throws Exception {
        VectorStorage.Builder items = VectorStorage.builder();
        for (Event e : local) items.add(e.createdAt(), Hex.decode(e.id()));
        Negentropy initiator = new Negentropy(items.build(), frameSizeLimit);
        client.send("[\"NEG-OPEN\",\"" + subId + "\"," + filter + ",\"" + Hex.encode(initiator.initiate()) + "\"]");
        Set<String> have = new HashSet<>(), need = new HashSet<>();
        for (int round = 1; ; round++) {
            JsonNode reply = negReply(client, subId);
            assertEquals("NEG-MSG", reply.get(0).asText(), reply.toString());
            Negentropy.Reconciliation r = initiator.reconcile(Hex.decode(reply.get(2).asText()));
            r.have().forEach(id -> have.add(Hex.encode(id)));
            r.need().forEach(id -> need.add(Hex.encode(id)));
            if (r.done()) {
                client.send("[\"NEG-CLOSE\",\"" + subId + "\"]");
                return new Sync(have, need, round);
            }
            client.send("[\"NEG-MSG\",\"" + subId + "\",\"" + Hex.encode(r.nextMessage()) + "\"]");
        }
    }

    static JsonNode negReply(RelayClient client, String subId) throws Exception {
        JsonNode m = client.next(x -> x.get(0).asText().startsWith("NEG-") && x.get(1).asText().equals(subId), 10_000);
        assertNotNull(m, "no NEG-MSG or NEG-ERR for " + subId);
        return m;
    }

    private List<Event> publish(RelayClient client, int count, int kind) throws Exception {
        List<Event> events = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            // few distinct timestamps, so the (created_at, id) order and id-prefix bounds are exercised
            Event e = alice.sign(kind, List.of(), "note " + i + " of " + kind, NOW - 1000 + (i % 7));
            JsonNode ok = client.publishAndWait(e);
            assertTrue(ok.get(2).asBoolean(), ok.toString());
            events.add(e);
        }
        return events;
    }

    private static Set<String> ids(List<Event> events) {
        Set<String> out = new HashSet<>();
        for (Event e : events) out.add(e.id());
        return out;
    }

    @Test
    void aClientLearnsExactlyWhichEventsTheRelayHasThatItLacksAndTheReverse() throws Exception {
        try (TestRelay relay = TestRelay.start(dir, OPEN); RelayClient client = RelayClient.connect(relay)) {
            List<Event> stored = publish(client, 60, 1);
            publish(client, 5, 7); // another kind: outside the filter
            List<Event> local = new ArrayList<>(stored.subList(10, 60)); // lacks the first 10
            List<Event> onlyLocal = List.of(alice.sign(1, List.of(), "not on the relay", NOW - 500), alice.sign(1, List.of(), "nor this", NOW - 999));
            local.addAll(onlyLocal);
            Sync s = sync(client, "sync1", "{\"kinds\":[1]}", local, 0);
            assertEquals(ids(stored.subList(0, 10)), s.need());
            assertEquals(ids(onlyLocal), s.have());
        }
    }

    @Test
    void deletedAndExpiredEventsAreNotPartOfTheRelaysSet() throws Exception {
        try (TestRelay relay = TestRelay.start(dir, OPEN); RelayClient client = RelayClient.connect(relay)) {
            List<Event> stored = publish(client, 5, 1);
            Event deletion = alice.sign(5, List.of(List.of("e", stored.get(0).id())), "", NOW);
            assertTrue(client.publishAndWait(deletion).get(2).asBoolean());
            long now = System.currentTimeMillis() / 1000;
            Event expiring = alice.sign(1, List.of(List.of("expiration", Long.toString(now + 2))), "short-lived", NOW - 1000);
            JsonNode ok = client.publishAndWait(expiring);
            assertTrue(ok.get(2).asBoolean(), ok.toString());
            while (System.currentTimeMillis() / 1000 <= now + 2) Thread.sleep(200);
            Sync s = sync(client, "sync1", "{\"kinds\":[1]}", List.of(), 0);
            assertEquals(ids(stored.subList(1, 5)), s.need());
        }
    }

    @Test
    void aSetLargerThanOneFrameIsReconciledOverSeveralRoundTripsWithinTheRelaysMessageSize() throws Exception {
        try (TestRelay relay = TestRelay.start(dir, OPEN + "[limits]\nmax_message_bytes = 16384\n");
             RelayClient client = RelayClient.connect(relay)) {
            List<Event> stored = publish(client, 400, 1);
            Sync s = sync(client, "big", "{\"kinds\":[1]}", stored.subList(0, 50), 4096);
            assertEquals(ids(stored.subList(50, 400)), s.need());
            assertTrue(s.have().isEmpty());
            assertTrue(s.roundTrips() > 1, "350 ids (11,200 bytes) cannot fit one reply under 8 kB of binary");
        }
    }

    @Test
    void aFilterCoveringMoreThanTheConfiguredMaximumIsBlocked() throws Exception {
        try (TestRelay relay = TestRelay.start(dir, OPEN + "[limits]\nmax_negentropy_events = 20\n");
             RelayClient client = RelayClient.connect(relay)) {
            publish(client, 21, 1);
            client.send("[\"NEG-OPEN\",\"n1\",{\"kinds\":[1]},\"6100000200\"]");
            JsonNode err = negReply(client, "n1");
            assertEquals("NEG-ERR", err.get(0).asText());
            assertTrue(err.get(2).asText().startsWith("blocked: "), err.toString());
            // a narrower filter is served, and NEG-MSG for the refused session is answered closed:
            Sync s = sync(client, "n2", "{\"kinds\":[1],\"limit\":20}", List.of(), 0);
            assertEquals(20, s.need().size());
            client.send("[\"NEG-MSG\",\"n1\",\"6100000200\"]");
            assertTrue(negReply(client, "n1").get(2).asText().startsWith("closed: "));
        }
    }

    @Test
    void aClosedSessionAnswersClosedAndBadInputIsRefusedWithNegErr() throws Exception {
        try (TestRelay relay = TestRelay.start(dir, OPEN); RelayClient client = RelayClient.connect(relay)) {
            publish(client, 3, 1);
            sync(client, "s", "{}", List.of(), 0); // ends with NEG-CLOSE
            client.send("[\"NEG-MSG\",\"s\",\"6100000200\"]");
            JsonNode closed = negReply(client, "s");
            assertEquals("NEG-ERR", closed.get(0).asText());
            assertTrue(closed.get(2).asText().startsWith("closed: "), closed.toString());

            client.send("[\"NEG-OPEN\",\"h\",{},\"not hex\"]");
            assertTrue(negReply(client, "h").get(2).asText().startsWith("invalid: "));
            client.send("[\"NEG-OPEN\",\"f\",{\"kinds\":\"x\"},\"6100000200\"]");
            JsonNode badFilter = negReply(client, "f");
            assertEquals("NEG-ERR", badFilter.get(0).asText());
            assertTrue(badFilter.get(2).asText().startsWith("invalid: "));
            client.send("[\"NEG-OPEN\",\"m\",{},\"61000003\"]"); // mode 3 does not exist
            JsonNode badMessage = negReply(client, "m");
            assertEquals("NEG-ERR", badMessage.get(0).asText());
            assertTrue(badMessage.get(2).asText().startsWith("invalid: "), badMessage.toString());
            // a newer protocol version is answered with the version the relay speaks
            client.send("[\"NEG-OPEN\",\"v\",{},\"62aabb\"]");
            assertEquals("[\"NEG-MSG\",\"v\",\"61\"]", negReply(client, "v").toString());
        }
    }

    @Test
    void negentropyNeedsAuthWhenReadsDoAndIsLimitedPerConnection() throws Exception {
        try (TestRelay relay = TestRelay.start(dir, "[auth]\nrequired = true\n[limits]\nmax_negentropy_sessions = 1\n");
             RelayClient client = RelayClient.connect(relay)) {
            client.send("[\"NEG-OPEN\",\"a\",{\"kinds\":[1]},\"6100000200\"]");
            assertTrue(negReply(client, "a").get(2).asText().startsWith("auth-required: "));
            client.authenticate(alice, relay);
            client.send("[\"NEG-OPEN\",\"a\",{\"kinds\":[1]},\"6100000200\"]");
            assertEquals("NEG-MSG", negReply(client, "a").get(0).asText());
            client.send("[\"NEG-OPEN\",\"b\",{\"kinds\":[1]},\"6100000200\"]");
            assertTrue(negReply(client, "b").get(2).asText().startsWith("rate-limited: "));
            // a filter that may match restricted kinds (DMs, gift wraps) is refused unless pinned to the reader
            client.send("[\"NEG-CLOSE\",\"a\"]");
            client.send("[\"NEG-OPEN\",\"r\",{},\"6100000200\"]");
            assertTrue(negReply(client, "r").get(2).asText().startsWith("restricted: "));
            client.send("[\"NEG-OPEN\",\"a\",{\"kinds\":[1]},\"6100000200\"]");
            assertEquals("NEG-MSG", negReply(client, "a").get(0).asText());
            // re-opening the same id replaces the session rather than counting twice
            client.send("[\"NEG-OPEN\",\"a\",{\"kinds\":[1]},\"6100000200\"]");
            assertEquals("NEG-MSG", negReply(client, "a").get(0).asText());
        }
    }

    @Test
    void nip11Lists77AndItsMaximumOnlyWhenEnabled() throws Exception {
        try (TestRelay relay = TestRelay.start(dir, OPEN)) {
            JsonNode info = info(relay);
            assertTrue(contains(info.get("supported_nips"), 77));
            assertEquals(500000, info.get("limitation").get("max_negentropy_events").asInt());
        }
        try (TestRelay relay = TestRelay.start(dir, OPEN + "[limits]\nmax_negentropy_events = 0\n");
             RelayClient client = RelayClient.connect(relay)) {
            JsonNode info = info(relay);
            assertFalse(contains(info.get("supported_nips"), 77));
            assertNull(info.get("limitation").get("max_negentropy_events"));
            client.send("[\"NEG-OPEN\",\"a\",{},\"6100000200\"]");
            assertTrue(negReply(client, "a").get(2).asText().startsWith("blocked: "));
        }
    }

    private static boolean contains(JsonNode array, int value) {
        for (JsonNode n : array) if (n.asInt() == value) return true;
        return false;
    }

    private static JsonNode info(TestRelay relay) throws Exception {
        HttpResponse<String> res = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + relay.port() + "/"))
                .header("Accept", "application/nostr+json").GET().build(), HttpResponse.BodyHandlers.ofString());
        return RelayClient.JSON.readTree(res.body());
    }
}
