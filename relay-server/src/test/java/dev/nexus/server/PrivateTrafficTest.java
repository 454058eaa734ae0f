package dev.nexus.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.nexus.core.Event;
import dev.nexus.core.testing.NostrKey;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * NIP-04 DMs, NIP-59 gift wraps and encrypted NIP-90 traffic are served only to a connection
 * authenticated as the event's author or a p-tagged recipient: stored, counted and live.
 */
class PrivateTrafficTest {
    @TempDir Path dir;
    private final NostrKey alice = NostrKey.generate();
    private final NostrKey bob = NostrKey.generate();
    private final NostrKey eve = NostrKey.generate();
    private final NostrKey oneTime = NostrKey.generate();
    private TestRelay relay;
    private Event dm, wrap, encryptedJob, openJob, note;

    @BeforeEach
    void start() throws Exception {
        relay = TestRelay.start(dir, "[auth]\nrequired = \"writes\"\n");
        dm = alice.sign(4, List.of(List.of("p", bob.pubkey())), "ciphertext");
        wrap = oneTime.sign(1059, List.of(List.of("p", bob.pubkey())), "sealed");
        encryptedJob = alice.sign(5050, List.of(List.of("p", bob.pubkey()), List.of("encrypted")), "encrypted job");
        openJob = alice.sign(5050, List.of(List.of("p", bob.pubkey())), "open job");
        note = alice.sign(1, "public note");
        try (RelayClient publisher = RelayClient.connect(relay)) {
            publisher.authenticate(alice, relay);
            for (Event e : List.of(dm, wrap, encryptedJob, openJob, note)) assertTrue(publisher.publishAndWait(e).get(2).asBoolean());
        }
    }

    @AfterEach
    void stop() {
        relay.close();
    }

    @Test
    void anotherAuthenticatedKeyCannotReadSomeoneElsesPrivateEvents() throws Exception {
        try (RelayClient c = RelayClient.connect(relay)) {
            c.authenticate(eve, relay);
            assertEquals(List.of(), c.queryIds("snoop", "{\"kinds\":[4,1059],\"#p\":[\"" + bob.pubkey() + "\"]}"));
            assertEquals(Set.of(openJob.id()), Set.copyOf(c.queryIds("jobs", "{\"kinds\":[5050]}")));
            assertEquals(Set.of(note.id(), openJob.id()), Set.copyOf(c.queryIds("all", "{}")), "other events still flow");
        }
    }

    @Test
    void theRecipientAndTheAuthorReadThem() throws Exception {
        try (RelayClient c = RelayClient.connect(relay)) {
            c.authenticate(bob, relay);
            assertEquals(Set.of(dm.id(), wrap.id()), Set.copyOf(c.queryIds("mine", "{\"kinds\":[4,1059],\"#p\":[\"" + bob.pubkey() + "\"]}")));
            assertEquals(Set.of(encryptedJob.id(), openJob.id()), Set.copyOf(c.queryIds("jobs", "{\"kinds\":[5050]}")));
        }
        try (RelayClient c = RelayClient.connect(relay)) {
            c.authenticate(alice, relay);
            assertEquals(Set.of(dm.id()), Set.copyOf(c.queryIds("sent", "{\"kinds\":[4],\"authors\":[\"" + alice.pubkey() + "\"]}")));
        }
    }

    @Test
    void countDoesNotCountOthersPrivateEvents() throws Exception {
        try (RelayClient eveClient = RelayClient.connect(relay); RelayClient bobClient = RelayClient.connect(relay)) {
            eveClient.authenticate(eve, relay);
            bobClient.authenticate(bob, relay);
            assertEquals(0, count(eveClient, "{\"kinds\":[4,1059]}"));
            assertEquals(3, count(eveClient, "{}"), "note, open job and the encrypted job's existence");
            assertEquals(2, count(bobClient, "{\"kinds\":[4,1059]}"));
        }
    }

    private static long count(RelayClient c, String filter) throws Exception {
        String id = "n" + Math.abs(filter.hashCode());
        c.send("[\"COUNT\",\"" + id + "\"," + filter + "]");
        JsonNode m = c.next(x -> x.get(0).asText().equals("COUNT") && x.get(1).asText().equals(id), 5000);
        return m.get(2).get("count").asLong();
    }

    @Test
    void anUnauthenticatedReaderGetsAChallengeAndPrivateLiveEventsOnlyOnceAuthenticatedAsARecipient() throws Exception {
        try (RelayClient reader = RelayClient.connect(relay); RelayClient publisher = RelayClient.connect(relay)) {
            publisher.authenticate(alice, relay);
            reader.req("live", "{\"kinds\":[1,1059],\"#t\":[\"live\"]}");
            assertTrue(reader.next(m -> m.get(0).asText().equals("AUTH"), 5000) != null, "NIP-42 on demand: a challenge");
            reader.expect("EOSE", 5000);
            Event early = oneTime.sign(1059, List.of(List.of("p", bob.pubkey()), List.of("t", "live")), "before auth");
            Event publicNote = alice.sign(1, List.of(List.of("t", "live")), "public");
            assertTrue(publisher.publishAndWait(early).get(2).asBoolean());
            assertTrue(publisher.publishAndWait(publicNote).get(2).asBoolean());
            List<JsonNode> got = reader.eventsFor("live", 1, 5000);
            assertEquals(publicNote.id(), got.get(0).get("id").asText(), "the other events flow");
            reader.authenticate(bob, relay);
            Event late = oneTime.sign(1059, List.of(List.of("p", bob.pubkey()), List.of("t", "live")), "after auth");
            assertTrue(publisher.publishAndWait(late).get(2).asBoolean());
            List<JsonNode> after = reader.eventsFor("live", 1, 5000);
            assertEquals(late.id(), after.get(0).get("id").asText());
        }
    }

    @Test
    void aReqThatCanOnlyMatchRestrictedKindsIsClosedAuthRequiredWhenUnauthenticated() throws Exception {
        try (RelayClient c = RelayClient.connect(relay)) {
            c.req("dms", "{\"kinds\":[4]}");
            JsonNode closed = c.expect("CLOSED", 5000);
            assertTrue(closed.get(2).asText().startsWith("auth-required:"), closed.toString());
        }
    }
}
