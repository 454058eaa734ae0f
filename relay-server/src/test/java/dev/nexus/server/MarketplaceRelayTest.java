package dev.nexus.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.nexus.core.Event;
import dev.nexus.core.Kinds;
import dev.nexus.core.testing.NostrKey;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** NIP-42, NIP-90, NIP-89, NIP-40, NIP-09, NIP-70 and rate limits through a real server. */
class MarketplaceRelayTest {
    private static final long NOW = System.currentTimeMillis() / 1000;
    @TempDir Path dir;
    private final NostrKey buyer = NostrKey.generate();
    private final NostrKey provider = NostrKey.generate();

    private static String okMessage(JsonNode ok) {
        return ok.get(3).asText();
    }

    @Test
    void withAuthRequiredNothingIsStoredOrSentBeforeAuthentication() throws Exception {
        try (TestRelay relay = TestRelay.start(dir, ""); RelayClient c = RelayClient.connect(relay)) {
            Event e = buyer.sign(1, "before auth");
            JsonNode ok = c.publishAndWait(e);
            assertFalse(ok.get(2).asBoolean());
            assertTrue(okMessage(ok).startsWith("auth-required:"), ok.toString());
            c.req("early", "{}");
            JsonNode closed = c.expect("CLOSED", 5000);
            assertTrue(closed.get(2).asText().startsWith("auth-required:"), closed.toString());
            c.send("[\"COUNT\",\"early-count\",{}]");
            JsonNode countClosed = c.expect("CLOSED", 5000);
            assertEquals("early-count", countClosed.get(1).asText());
            assertTrue(countClosed.get(2).asText().startsWith("auth-required:"), countClosed.toString());
            c.authenticate(buyer, relay);
            assertEquals(List.of(), c.queryIds("after", "{\"ids\":[\"" + e.id() + "\"]}"));
            assertTrue(c.publishAndWait(buyer.sign(1, "after auth")).get(2).asBoolean());
        }
    }

    @Test
    void authEventsAreCheckedForChallengeRelayTimeAndSignature() throws Exception {
        try (TestRelay relay = TestRelay.start(dir, "[auth]\nmax_failed_auths = 10\n"); RelayClient c = RelayClient.connect(relay)) {
            String url = relay.url();
            List<Event> bad = List.of(
                    buyer.sign(Kinds.AUTH, List.of(List.of("relay", url), List.of("challenge", "not-the-challenge")), ""),
                    buyer.sign(Kinds.AUTH, List.of(List.of("relay", "wss://other.example.com"), List.of("challenge", c.challenge())), ""),
                    buyer.sign(Kinds.AUTH, List.of(List.of("relay", url), List.of("challenge", c.challenge())), "", NOW - 3600),
                    buyer.sign(Kinds.AUTH, List.of(List.of("relay", url), List.of("challenge", c.challenge())), "", NOW + 3600),
                    buyer.sign(1, List.of(List.of("relay", url), List.of("challenge", c.challenge())), ""));
            for (Event e : bad) {
                c.send("[\"AUTH\"," + e.json() + "]");
                JsonNode ok = c.ok(e.id());
                assertFalse(ok.get(2).asBoolean(), e.json());
                assertTrue(okMessage(ok).startsWith("invalid:"), ok.toString());
            }
            Event good = buyer.sign(Kinds.AUTH, List.of(List.of("relay", url.toUpperCase().replace("WS://", "ws://") + "/"), List.of("challenge", c.challenge())), "");
            Event forged = new Event(good.id(), good.pubkey(), good.createdAt(), good.kind(), good.tags(), good.content(),
                    (good.sig().charAt(0) == 'a' ? "b" : "a") + good.sig().substring(1));
            c.send("[\"AUTH\"," + forged.json() + "]");
            assertTrue(okMessage(c.ok(forged.id())).startsWith("invalid:"));
            c.send("[\"AUTH\"," + good.json() + "]");
            JsonNode accepted = c.ok(good.id());
            assertTrue(accepted.get(2).asBoolean(), "relay URL comparison ignores host case and a trailing slash: " + accepted);
            // The AUTH event itself is neither stored nor accepted as a normal EVENT.
            assertEquals(List.of(), c.queryIds("auths", "{\"kinds\":[22242]}"));
            assertTrue(okMessage(c.publishAndWait(good)).startsWith("invalid:"));
        }
    }

    @Test
    void withNoPublicUrlConfiguredTheBindAddressesLoopbackNamesAreAccepted() throws Exception {
        try (TestRelay relay = TestRelay.start(dir, ""); RelayClient c = RelayClient.connect("ws://localhost:" + relay.port())) {
            Event auth = buyer.sign(Kinds.AUTH, List.of(List.of("relay", "wss://localhost:" + relay.port()), List.of("challenge", c.challenge())), "");
            c.send("[\"AUTH\"," + auth.json() + "]");
            assertTrue(c.ok(auth.id()).get(2).asBoolean());
        }
        try (TestRelay relay = TestRelay.start(dir, "[server]\nurl = \"wss://relay.example.com\"\n");
             RelayClient c = RelayClient.connect("ws://localhost:" + relay.port())) {
            Event auth = buyer.sign(Kinds.AUTH, List.of(List.of("relay", "ws://localhost:" + relay.port()), List.of("challenge", c.challenge())), "");
            c.send("[\"AUTH\"," + auth.json() + "]");
            assertTrue(okMessage(c.ok(auth.id())).startsWith("invalid:"), "a configured URL is the only one accepted");
            Event good = buyer.sign(Kinds.AUTH, List.of(List.of("relay", "wss://RELAY.example.com/"), List.of("challenge", c.challenge())), "");
            c.send("[\"AUTH\"," + good.json() + "]");
            assertTrue(c.ok(good.id()).get(2).asBoolean());
        }
    }

    @Test
    void oneConnectionMayAuthenticateSeveralPubkeys() throws Exception {
        try (TestRelay relay = TestRelay.start(dir, ""); RelayClient c = RelayClient.connect(relay)) {
            c.authenticate(buyer, relay);
            c.authenticate(provider, relay);
            assertTrue(c.publishAndWait(buyer.sign(1, List.of(List.of("-")), "protected by buyer")).get(2).asBoolean());
            assertTrue(c.publishAndWait(provider.sign(1, List.of(List.of("-")), "protected by provider")).get(2).asBoolean());
        }
    }

    @Test
    void writesOnlyModeLetsAnyoneReadButOnlyAuthenticatedAgentsPublish() throws Exception {
        try (TestRelay relay = TestRelay.start(dir, "[auth]\nrequired = \"writes\"\n"); RelayClient c = RelayClient.connect(relay)) {
            assertEquals(List.of(), c.queryIds("read", "{\"kinds\":[1]}"));
            assertTrue(okMessage(c.publishAndWait(buyer.sign(1, "x"))).startsWith("auth-required:"));
            c.authenticate(buyer, relay);
            assertTrue(c.publishAndWait(buyer.sign(1, "y")).get(2).asBoolean());
        }
    }

    @Test
    void deniedPubkeysAreBlockedAndAnAllowListRestrictsEveryoneElse() throws Exception {
        NostrKey outsider = NostrKey.generate();
        String toml = "[auth]\nallowed_pubkeys = [\"" + buyer.pubkey() + "\", \"" + provider.pubkey() + "\"]\ndenied_pubkeys = [\"" + provider.pubkey() + "\"]\n";
        try (TestRelay relay = TestRelay.start(dir, toml); RelayClient c = RelayClient.connect(relay)) {
            Event denied = provider.sign(Kinds.AUTH, List.of(List.of("relay", relay.url()), List.of("challenge", c.challenge())), "");
            c.send("[\"AUTH\"," + denied.json() + "]");
            assertTrue(okMessage(c.ok(denied.id())).startsWith("blocked:"));
            Event stranger = outsider.sign(Kinds.AUTH, List.of(List.of("relay", relay.url()), List.of("challenge", c.challenge())), "");
            c.send("[\"AUTH\"," + stranger.json() + "]");
            assertTrue(okMessage(c.ok(stranger.id())).startsWith("restricted:"));
            c.authenticate(buyer, relay);
            assertTrue(okMessage(c.publishAndWait(provider.sign(1, "from a denied key"))).startsWith("blocked:"));
            assertTrue(c.publishAndWait(buyer.sign(1, "allowed")).get(2).asBoolean());
        }
    }

    @Test
    void protectedEventsAreAcceptedOnlyFromTheirAuthenticatedAuthor() throws Exception {
        try (TestRelay relay = TestRelay.start(dir, "[auth]\nrequired = false\n"); RelayClient c = RelayClient.connect(relay)) {
            Event e = provider.sign(1, List.of(List.of("-")), "only from me");
            assertTrue(okMessage(c.publishAndWait(e)).startsWith("auth-required:"));
            c.authenticate(buyer, relay);
            assertTrue(okMessage(c.publishAndWait(e)).startsWith("restricted:"));
            c.authenticate(provider, relay);
            assertTrue(c.publishAndWait(e).get(2).asBoolean());
        }
    }

    @Test
    void aCompleteDvmRoundTrip() throws Exception {
        try (TestRelay relay = TestRelay.start(dir, "");
             RelayClient prov = RelayClient.connect(relay);
             RelayClient buy = RelayClient.connect(relay)) {
            prov.authenticate(provider, relay);
            buy.authenticate(buyer, relay);
            // 1. The provider announces what it serves (NIP-89).
            Event handler = provider.sign(Kinds.HANDLER_INFORMATION, List.of(List.of("d", "textgen"), List.of("k", "5050")),
                    "{\"name\":\"textgen\",\"pricing\":{\"msats\":1000}}");
            assertTrue(prov.publishAndWait(handler).get(2).asBoolean());
            // 2. The provider listens for jobs addressed to it.
            prov.query("jobs", "{\"kinds\":[5050],\"#p\":[\"" + provider.pubkey() + "\"]}");
            // 3. The buyer discovers the provider by capability.
            List<JsonNode> found = buy.query("find", "{\"kinds\":[31990],\"#k\":[\"5050\"]}");
            assertEquals(1, found.size());
            String providerKey = found.get(0).get("pubkey").asText();
            assertEquals(provider.pubkey(), providerKey);
            // 4. The buyer posts a job addressed to it and subscribes to its outcome.
            Event job = buyer.sign(5050, List.of(List.of("p", providerKey)), "{\"type\":\"summarise\",\"text\":\"...\"}");
            assertTrue(buy.publishAndWait(job).get(2).asBoolean());
            buy.query("outcome", "{\"kinds\":[6050,7000],\"#e\":[\"" + job.id() + "\"],\"#p\":[\"" + buyer.pubkey() + "\"]}");
            // 5. The provider receives the job live, sends feedback then the result.
            List<JsonNode> jobs = prov.eventsFor("jobs", 1, 5000);
            assertEquals(job.id(), jobs.get(0).get("id").asText());
            Event feedback = provider.sign(7000, List.of(List.of("status", "processing"), List.of("e", job.id()), List.of("p", buyer.pubkey())), "");
            Event result = provider.sign(6050, List.of(List.of("e", job.id()), List.of("p", buyer.pubkey()), List.of("request", job.json()),
                    List.of("amount", "1000")), "the summary");
            assertTrue(prov.publishAndWait(feedback).get(2).asBoolean());
            assertTrue(prov.publishAndWait(result).get(2).asBoolean());
            // 6. The buyer's subscription receives both.
            List<JsonNode> outcome = buy.eventsFor("outcome", 2, 5000);
            assertEquals(List.of(feedback.id(), result.id()), outcome.stream().map(n -> n.get("id").asText()).toList());
        }
    }

    @Test
    void feedbackAndResultsThatNoBuyerCouldMatchAreRejected() throws Exception {
        try (TestRelay relay = TestRelay.start(dir, "[auth]\nrequired = false\n"); RelayClient c = RelayClient.connect(relay)) {
            String job = "a".repeat(64);
            assertTrue(okMessage(c.publishAndWait(provider.sign(7000, List.of(List.of("status", "processing")), ""))).startsWith("invalid:"));
            assertTrue(okMessage(c.publishAndWait(provider.sign(7000, List.of(List.of("e", job)), ""))).startsWith("invalid:"));
            assertTrue(okMessage(c.publishAndWait(provider.sign(6050, List.of(List.of("p", buyer.pubkey())), "r"))).startsWith("invalid:"));
            assertTrue(c.publishAndWait(provider.sign(7000, List.of(List.of("e", job), List.of("status", "error")), "")).get(2).asBoolean());
            // Job requests need no i tag: typed envelopes travel in content.
            assertTrue(c.publishAndWait(buyer.sign(5050, List.of(), "{\"envelope\":1}")).get(2).asBoolean());
        }
    }

    @Test
    void encryptedJobRequestsPassThroughAndAreFoundByP() throws Exception {
        try (TestRelay relay = TestRelay.start(dir, "[auth]\nrequired = false\n"); RelayClient c = RelayClient.connect(relay)) {
            Event job = buyer.sign(5050, List.of(List.of("p", provider.pubkey()), List.of("encrypted")), "AgEAb3BhcXVlIGNpcGhlcnRleHQ=");
            assertTrue(c.publishAndWait(job).get(2).asBoolean());
            c.authenticate(provider, relay); // encrypted job traffic is served to its author and p-tagged recipients only
            List<JsonNode> found = c.query("enc", "{\"kinds\":[5050],\"#p\":[\"" + provider.pubkey() + "\"]}");
            assertEquals(1, found.size());
            assertEquals(RelayClient.JSON.readTree(job.json()), found.get(0));
        }
    }

    @Test
    void jobsExpireAfterTheirRetentionAndAreSwept() throws Exception {
        String toml = "[auth]\nrequired = false\n[retention]\njob_request_seconds = 6\njob_feedback_seconds = 6\njob_result_seconds = 60\nsweep_interval_seconds = 1\n";
        try (TestRelay relay = TestRelay.start(dir, toml); RelayClient c = RelayClient.connect(relay)) {
            long now = System.currentTimeMillis() / 1000;
            Event job = buyer.sign(5050, List.of(), "short-lived job", now);
            Event result = provider.sign(6050, List.of(List.of("e", job.id())), "kept longer", now);
            Event handler = provider.sign(31990, List.of(List.of("d", "x"), List.of("k", "5050")), "{}", now - 100000);
            for (Event e : List.of(job, result, handler)) assertTrue(c.publishAndWait(e).get(2).asBoolean());
            assertEquals(List.of(job.id()), c.queryIds("j1", "{\"kinds\":[5050]}"));
            long deadline = System.currentTimeMillis() + 15000;
            List<String> ids = List.of(job.id());
            while (!ids.isEmpty() && System.currentTimeMillis() < deadline) {
                Thread.sleep(250);
                ids = c.queryIds("j2", "{\"kinds\":[5050]}");
            }
            assertEquals(List.of(), ids, "the job should stop being served once its retention has passed");
            assertEquals(List.of(result.id()), c.queryIds("r", "{\"kinds\":[6050]}"));
            assertEquals(List.of(handler.id()), c.queryIds("h", "{\"kinds\":[31990]}"));
        }
    }

    @Test
    void nip40ExpiredEventsAreRejectedAndExpiringOnesStopBeingReturned() throws Exception {
        try (TestRelay relay = TestRelay.start(dir, "[auth]\nrequired = false\n"); RelayClient c = RelayClient.connect(relay)) {
            long now = System.currentTimeMillis() / 1000;
            JsonNode past = c.publishAndWait(buyer.sign(1, List.of(List.of("expiration", String.valueOf(now - 1))), "already gone"));
            assertTrue(okMessage(past).startsWith("invalid:"), past.toString());
            // Seconds of margin: on a loaded two-core CI machine the first EVENTs of a fresh JVM can take a while.
            Event soon = buyer.sign(1, List.of(List.of("expiration", String.valueOf(now + 5))), "gone soon");
            assertTrue(c.publishAndWait(soon).get(2).asBoolean());
            assertEquals(List.of(soon.id()), c.queryIds("a", "{\"ids\":[\"" + soon.id() + "\"]}"));
            Thread.sleep(Math.max(0, (now + 6) * 1000 - System.currentTimeMillis()));
            assertEquals(List.of(), c.queryIds("b", "{\"ids\":[\"" + soon.id() + "\"]}"));
        }
    }

    @Test
    void aBuyerCancelsAJobWithADeletionThatSubscribedProvidersSee() throws Exception {
        try (TestRelay relay = TestRelay.start(dir, "[auth]\nrequired = false\n");
             RelayClient buy = RelayClient.connect(relay);
             RelayClient prov = RelayClient.connect(relay)) {
            Event job = buyer.sign(5050, List.of(List.of("p", provider.pubkey())), "job");
            buy.publishAndWait(job);
            prov.query("cancels", "{\"kinds\":[5],\"#e\":[\"" + job.id() + "\"]}");
            Event notMine = provider.sign(5, List.of(List.of("e", job.id())), "");
            assertTrue(prov.publishAndWait(notMine).get(2).asBoolean());
            assertEquals(List.of(job.id()), buy.queryIds("still", "{\"ids\":[\"" + job.id() + "\"]}"), "only the author can delete");
            Event cancel = buyer.sign(5, List.of(List.of("e", job.id()), List.of("k", "5050")), "cancelled");
            assertTrue(buy.publishAndWait(cancel).get(2).asBoolean());
            List<String> seen = prov.eventsFor("cancels", 2, 5000).stream().map(n -> n.get("id").asText()).toList();
            assertTrue(seen.contains(cancel.id()), seen.toString());
            assertEquals(List.of(), buy.queryIds("gone", "{\"ids\":[\"" + job.id() + "\"]}"));
            JsonNode again = buy.publishAndWait(job);
            assertFalse(again.get(2).asBoolean());
            assertTrue(okMessage(again).startsWith("blocked:"), again.toString());
            assertEquals(List.of(cancel.id()), buy.queryIds("del", "{\"kinds\":[5],\"authors\":[\"" + buyer.pubkey() + "\"]}"));
        }
    }

    @Test
    void anATagDeletionRemovesAHandlerAnnouncement() throws Exception {
        try (TestRelay relay = TestRelay.start(dir, "[auth]\nrequired = false\n"); RelayClient c = RelayClient.connect(relay)) {
            c.publishAndWait(provider.sign(31990, List.of(List.of("d", "svc"), List.of("k", "5050")), "{}", NOW - 10));
            c.publishAndWait(provider.sign(5, List.of(List.of("a", "31990:" + provider.pubkey() + ":svc")), "", NOW - 1));
            assertEquals(List.of(), c.queryIds("k", "{\"kinds\":[31990],\"#k\":[\"5050\"]}"));
        }
    }

    @Test
    void handlerAnnouncementsAreReplacedPerDTagAndFoundByCapability() throws Exception {
        try (TestRelay relay = TestRelay.start(dir, "[auth]\nrequired = false\n"); RelayClient c = RelayClient.connect(relay)) {
            c.publishAndWait(provider.sign(31990, List.of(List.of("d", "svc"), List.of("k", "5050")), "{\"v\":1}", NOW - 10));
            Event v2 = provider.sign(31990, List.of(List.of("d", "svc"), List.of("k", "5100")), "{\"v\":2}", NOW - 5);
            c.publishAndWait(v2);
            assertEquals(List.of(), c.queryIds("old", "{\"kinds\":[31990],\"#k\":[\"5050\"]}"));
            assertEquals(List.of(v2.id()), c.queryIds("new", "{\"kinds\":[31990],\"#k\":[\"5100\"]}"));
            Event rec = buyer.sign(Kinds.HANDLER_RECOMMENDATION, List.of(List.of("d", "5100"), List.of("a", "31990:" + provider.pubkey() + ":svc")), "");
            assertTrue(c.publishAndWait(rec).get(2).asBoolean());
            assertEquals(List.of(rec.id()), c.queryIds("rec", "{\"kinds\":[31989],\"#d\":[\"5100\"]}"));
        }
    }

    @Test
    void rateLimitsAnswerRateLimitedAndDoNotAffectOtherClients() throws Exception {
        String toml = "[auth]\nrequired = false\n[rate_limits]\nevents_per_second = 0.001\nevents_burst = 3\njobs_per_second = 0.001\njobs_burst = 2\n"
                + "reqs_per_second = 0.001\nreqs_burst = 2\nexempt_ips = []\n";
        try (TestRelay relay = TestRelay.start(dir, toml); RelayClient c = RelayClient.connect(relay)) {
            for (int i = 0; i < 3; i++) assertTrue(c.publishAndWait(buyer.sign(1, "n" + i)).get(2).asBoolean());
            assertTrue(okMessage(c.publishAndWait(buyer.sign(1, "one too many"))).startsWith("rate-limited:"));
            // Job requests have a budget of their own.
            for (int i = 0; i < 2; i++) assertTrue(c.publishAndWait(buyer.sign(5050, "job" + i)).get(2).asBoolean());
            assertTrue(okMessage(c.publishAndWait(buyer.sign(5050, "job too many"))).startsWith("rate-limited:"));
            c.query("q1", "{}");
            c.query("q2", "{}");
            c.req("q3", "{}");
            JsonNode closed = c.expect("CLOSED", 5000);
            assertTrue(closed.get(2).asText().startsWith("rate-limited:"), closed.toString());
        }
    }

    @Test
    void perPubkeyBudgetsFollowTheAuthenticatedAgentAcrossConnections() throws Exception {
        String toml = "[auth]\nrequired = true\n[rate_limits]\nevents_per_second = 0.001\nevents_burst = 2\n";
        try (TestRelay relay = TestRelay.start(dir, toml);
             RelayClient first = RelayClient.connect(relay);
             RelayClient second = RelayClient.connect(relay);
             RelayClient other = RelayClient.connect(relay)) {
            first.authenticate(buyer, relay);
            second.authenticate(buyer, relay);
            other.authenticate(provider, relay);
            assertTrue(first.publishAndWait(buyer.sign(1, "a")).get(2).asBoolean());
            assertTrue(second.publishAndWait(buyer.sign(1, "b")).get(2).asBoolean());
            assertTrue(okMessage(first.publishAndWait(buyer.sign(1, "c"))).startsWith("rate-limited:"));
            assertTrue(other.publishAndWait(provider.sign(1, "unaffected")).get(2).asBoolean());
        }
    }
}
