package dev.nexus.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.nexus.core.Event;
import dev.nexus.core.Kinds;
import dev.nexus.core.testing.NostrKey;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** AUTH frames are budgeted per connection: a replayed forged AUTH does not buy a signature check per copy. */
class AuthBudgetTest {
    @TempDir Path dir;

    @Test
    void aReplayedAuthWithABadSignatureCostsAFewVerificationsThenTheConnectionIsClosed() throws Exception {
        NostrKey key = NostrKey.generate();
        try (TestRelay relay = TestRelay.start(dir, "[auth]\nmax_auths_in_flight = 2\nmax_failed_auths = 3\n");
             RelayClient c = RelayClient.connect(relay)) {
            Event good = key.sign(Kinds.AUTH, List.of(List.of("relay", relay.url()), List.of("challenge", c.challenge())), "");
            Event forged = new Event(good.id(), good.pubkey(), good.createdAt(), good.kind(), good.tags(), good.content(),
                    (good.sig().charAt(0) == 'a' ? "b" : "a") + good.sig().substring(1));
            String frame = "[\"AUTH\"," + forged.json() + "]";
            // All copies, even after the relay's close frame: a client that ignores it keeps sending until the
            // relay drops the connection, and none of those copies may buy a check either.
            int sent = 0;
            for (int i = 0; i < 200; i++) {
                try {
                    c.send(frame);
                    sent++;
                } catch (Exception closedMeanwhile) {
                    break;
                }
            }
            for (int i = 0; i < 100 && !c.closed; i++) Thread.sleep(50);
            assertTrue(c.closed, "the connection is closed after max_failed_auths failures, or once past max_auths_per_connection");
            // Counted in the relay, since a client closed mid-flood need not read every answer: at most the
            // in-flight slots are checked when the third failure closes the connection; later copies are refused unchecked.
            var verifications = relay.server().metrics().registry().get("nexus.verify").timer();
            for (int i = 0; i < 40 && verifications.count() == 0; i++) Thread.sleep(50);
            Thread.sleep(200); // checks still running when the connection closed count too
            long checks = verifications.count();
            assertTrue(sent > 4, "the flood was sent: " + sent + " copies");
            assertTrue(checks >= 1 && checks <= 4, "signature checks paid for " + sent + " copies: " + checks);
            JsonNode m;
            while ((m = c.next(x -> x.get(0).asText().equals("OK"), 500)) != null) {
                assertEquals(false, m.get(2).asBoolean(), "no forged copy is accepted: " + m);
            }
        }
    }

    @Test
    void anAgentStillAuthenticatesAfterOneMistake() throws Exception {
        NostrKey key = NostrKey.generate();
        try (TestRelay relay = TestRelay.start(dir, ""); RelayClient c = RelayClient.connect(relay)) {
            Event wrongRelay = key.sign(Kinds.AUTH, List.of(List.of("relay", "wss://elsewhere.example.com"), List.of("challenge", c.challenge())), "");
            c.send("[\"AUTH\"," + wrongRelay.json() + "]");
            assertEquals(false, c.ok(wrongRelay.id()).get(2).asBoolean());
            c.authenticate(key, relay);
        }
    }
}
