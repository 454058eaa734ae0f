package dev.nexus.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.nexus.core.Event;
import dev.nexus.core.Kinds;
import dev.nexus.core.testing.NostrKey;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The markets issue 14 names, through a real relay: the original DVM draft (kinds 68001/68002 with
 * {@code j} tags), ephemeral agent protocols (ContextVM's 25910), NIP-59 gift wraps from throwaway
 * keys, operator-given budgets and open kinds for clients that cannot answer NIP-42.
 */
class AgentMarketsRelayTest {
    @TempDir Path dir;
    private final NostrKey customer = NostrKey.generate();
    private final NostrKey provider = NostrKey.generate();

    private static String config(boolean authRequired) {
        return authRequired ? "" : "[auth]\nrequired = false\n";
    }

    private static long now() {
        return System.currentTimeMillis() / 1000;
    }

    private static boolean accepted(JsonNode ok) {
        return ok.get(2).asBoolean();
    }

    private static String message(JsonNode ok) {
        return ok.get(3).asText();
    }

    @ParameterizedTest(name = "auth required: {0}")
    @ValueSource(booleans = {true, false})
    void theOriginalDvmDraftFlowWorksWithKinds68001And68002(boolean authRequired) throws Exception {
        try (TestRelay relay = TestRelay.start(dir, config(authRequired));
             RelayClient prov = RelayClient.connect(relay);
             RelayClient cust = RelayClient.connect(relay)) {
            if (authRequired) {
                prov.authenticate(provider, relay);
                cust.authenticate(customer, relay);
            }
            // A provider listens for the job type it serves, by the draft's j tag.
            assertEquals(List.of(), prov.queryIds("stt", "{\"kinds\":[68001],\"#j\":[\"speech-to-text\"]}"));
            prov.req("stt", "{\"kinds\":[68001],\"#j\":[\"speech-to-text\"]}");
            prov.expect("EOSE", 5000);
            prov.req("sum", "{\"kinds\":[68001],\"#j\":[\"summarize\"]}");
            prov.expect("EOSE", 5000);

            // The customer requests a job and waits for its result by #e.
            Event job = customer.sign(68001, List.of(List.of("j", "speech-to-text"), List.of("input", "https://example.com/a.mp3", "url")), "");
            assertTrue(accepted(cust.publishAndWait(job)));
            cust.req("result", "{\"kinds\":[68002],\"#e\":[\"" + job.id() + "\"]}");
            cust.expect("EOSE", 5000);
            List<JsonNode> delivered = prov.eventsFor("stt", 1, 5000);
            assertEquals(List.of(job.id()), delivered.stream().map(e -> e.get("id").asText()).toList());
            assertEquals(68001, delivered.get(0).get("kind").asInt());

            // The provider answers with a 68002 carrying e and p; a result without e no buyer could find.
            Event noReference = provider.sign(68002, List.of(List.of("p", customer.pubkey())), "lost");
            assertTrue(message(prov.publishAndWait(noReference)).startsWith("invalid:"));
            Event result = provider.sign(68002, List.of(List.of("e", job.id()), List.of("p", customer.pubkey())), "the transcript");
            assertTrue(accepted(prov.publishAndWait(result)));
            assertEquals(List.of(result.id()), cust.eventsFor("result", 1, 5000).stream().map(e -> e.get("id").asText()).toList());
            assertEquals(List.of(result.id()), cust.queryIds("by-e", "{\"kinds\":[68002],\"#e\":[\"" + job.id() + "\"]}"));

            // Chaining: a second job takes the first one's output as input.
            Event chained = customer.sign(68001, List.of(List.of("j", "summarize"), List.of("input", job.id(), "job")), "");
            assertTrue(accepted(cust.publishAndWait(chained)));
            JsonNode next = prov.eventsFor("sum", 1, 5000).get(0);
            assertEquals(chained.id(), next.get("id").asText());
            String inputJob = next.get("tags").get(1).get(1).asText();
            assertEquals(List.of(job.id()), prov.queryIds("input", "{\"ids\":[\"" + inputJob + "\"]}"));
            assertEquals(List.of(result.id()), prov.queryIds("input-result", "{\"kinds\":[68002],\"#e\":[\"" + inputJob + "\"]}"));
            assertEquals(java.util.Set.of(chained.id(), job.id()),
                    java.util.Set.copyOf(prov.queryIds("all-jobs", "{\"kinds\":[68001],\"#j\":[\"speech-to-text\",\"summarize\"]}")));

            // The draft's expiration tag: served until it passes, then not.
            Event expiring = customer.sign(68001, List.of(List.of("j", "translate"), List.of("expiration", String.valueOf(now() + 2))), "");
            assertTrue(accepted(cust.publishAndWait(expiring)));
            assertEquals(List.of(expiring.id()), cust.queryIds("tr", "{\"kinds\":[68001],\"#j\":[\"translate\"]}"));
            List<String> ids = List.of(expiring.id());
            long deadline = System.currentTimeMillis() + 10000;
            while (!ids.isEmpty() && System.currentTimeMillis() < deadline) {
                Thread.sleep(250);
                ids = cust.queryIds("tr2", "{\"kinds\":[68001],\"#j\":[\"translate\"]}");
            }
            assertEquals(List.of(), ids, "an expired draft job must stop being served");
        }
    }

    @Test
    void kindsThatAreNegativeFractionalOrNotNumbersAreRefusedAsInvalid() throws Exception {
        try (TestRelay relay = TestRelay.start(dir, config(false)); RelayClient c = RelayClient.connect(relay)) {
            for (String kinds : List.of("[-1]", "[68001.5]", "[\"68001\"]", "[2147483648]")) {
                c.req("bad", "{\"kinds\":" + kinds + "}");
                JsonNode closed = c.expect("CLOSED", 5000);
                assertTrue(closed.get(2).asText().startsWith("invalid:"), closed.toString());
            }
            Event valid = customer.sign(68001, List.of(), "");
            for (String kind : List.of("-1", "68001.5", "\"68001\"")) {
                c.send("[\"EVENT\"," + valid.json().replace("\"kind\":68001", "\"kind\":" + kind) + "]");
                JsonNode ok = c.ok(valid.id());
                assertFalse(accepted(ok));
                assertTrue(message(ok).startsWith("invalid:"), ok.toString());
            }
            Event largest = customer.sign(Integer.MAX_VALUE, List.of(), "a regular event at the top of the kind range");
            assertTrue(accepted(c.publishAndWait(largest)));
            assertEquals(List.of(largest.id()), c.queryIds("max", "{\"kinds\":[2147483647]}"));
        }
    }

    @Test
    void aDuplicateIsASuccessButADeletedEventAndAnOlderReplaceableStayRefused() throws Exception {
        try (TestRelay relay = TestRelay.start(dir, ""); RelayClient c = RelayClient.connect(relay)) {
            c.authenticate(customer, relay);
            Event job = customer.sign(5050, List.of(), "published to several relays");
            assertTrue(accepted(c.publishAndWait(job)));
            JsonNode again = c.publishAndWait(job);
            assertTrue(accepted(again));
            assertTrue(message(again).startsWith("duplicate:"), again.toString());
            try (RelayClient reconnected = RelayClient.connect(relay)) {
                reconnected.authenticate(customer, relay);
                JsonNode afterReconnect = reconnected.publishAndWait(job);
                assertTrue(accepted(afterReconnect));
                assertTrue(message(afterReconnect).startsWith("duplicate:"));
            }
            assertEquals(List.of(job.id()), c.queryIds("once", "{\"kinds\":[5050]}"));

            assertTrue(accepted(c.publishAndWait(customer.sign(Kinds.DELETION, List.of(List.of("e", job.id())), "cancelled"))));
            JsonNode deleted = c.publishAndWait(job);
            assertFalse(accepted(deleted));
            assertTrue(message(deleted).startsWith("blocked:"), deleted.toString());

            long t = now();
            assertTrue(accepted(c.publishAndWait(customer.sign(10002, List.of(), "", t))));
            JsonNode older = c.publishAndWait(customer.sign(10002, List.of(), "older", t - 10));
            assertFalse(accepted(older));
            assertTrue(message(older).startsWith("duplicate:"), older.toString());
        }
    }

    @ParameterizedTest(name = "auth required: {0}")
    @ValueSource(booleans = {true, false})
    void ephemeralAgentMessagesReachEveryMatchingSubscriptionAndAreNeverStored(boolean authRequired) throws Exception {
        NostrKey server = NostrKey.generate();
        try (TestRelay relay = TestRelay.start(dir, config(authRequired));
             RelayClient byKind = RelayClient.connect(relay);
             RelayClient byRecipient = RelayClient.connect(relay);
             RelayClient byAuthor = RelayClient.connect(relay);
             RelayClient other = RelayClient.connect(relay);
             RelayClient client = RelayClient.connect(relay)) {
            List<RelayClient> all = List.of(byKind, byRecipient, byAuthor, other, client);
            if (authRequired) for (RelayClient c : all) c.authenticate(c == client ? customer : server, relay);
            byKind.req("k", "{\"kinds\":[25910]}");
            byRecipient.req("p", "{\"kinds\":[25910],\"#p\":[\"" + server.pubkey() + "\"]}");
            byAuthor.req("a", "{\"authors\":[\"" + customer.pubkey() + "\"],\"kinds\":[25910]}");
            other.req("o", "{\"kinds\":[25910],\"#p\":[\"" + customer.pubkey() + "\"]}");
            for (RelayClient c : List.of(byKind, byRecipient, byAuthor, other)) c.expect("EOSE", 5000);

            Event request = customer.sign(25910, List.of(List.of("p", server.pubkey())),
                    "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/list\"}");
            assertTrue(accepted(client.publishAndWait(request)));
            for (var sub : List.of(new Object[] {byKind, "k"}, new Object[] {byRecipient, "p"}, new Object[] {byAuthor, "a"})) {
                List<JsonNode> got = ((RelayClient) sub[0]).eventsFor((String) sub[1], 1, 5000);
                assertEquals(List.of(request.id()), got.stream().map(e -> e.get("id").asText()).toList(), "subscription " + sub[1]);
                assertTrue(((RelayClient) sub[0]).eventsFor((String) sub[1], 1, 300).isEmpty(), "delivered once");
            }
            assertTrue(other.eventsFor("o", 1, 300).isEmpty(), "a subscription for the other direction gets nothing");
            assertEquals(List.of(), client.queryIds("stored", "{\"kinds\":[25910]}"));
            assertEquals(List.of(), client.queryIds("stored-id", "{\"ids\":[\"" + request.id() + "\"]}"));
        }
    }

    @Test
    void giftWrapsFromThrowawayKeysArePublishedByTheAuthenticatedAgentAndChargedToIt() throws Exception {
        NostrKey agent = NostrKey.generate();
        NostrKey otherAgent = NostrKey.generate();
        NostrKey recipient = NostrKey.generate();
        String toml = "[[rate_limits.pubkey]]\npubkey = \"" + agent.pubkey() + "\"\nevents_per_second = 0.001\nevents_burst = 3\n";
        try (TestRelay relay = TestRelay.start(dir, toml);
             RelayClient a = RelayClient.connect(relay);
             RelayClient b = RelayClient.connect(relay);
             RelayClient r = RelayClient.connect(relay)) {
            a.authenticate(agent, relay);
            b.authenticate(otherAgent, relay);
            r.authenticate(recipient, relay);
            r.req("inbox", "{\"kinds\":[1059],\"#p\":[\"" + recipient.pubkey() + "\"]}");
            r.expect("EOSE", 5000);
            List<NostrKey> throwaway = new ArrayList<>();
            for (int i = 0; i < 4; i++) throwaway.add(NostrKey.generate());
            List<String> published = new ArrayList<>();
            for (int i = 0; i < 3; i++) {
                Event wrap = throwaway.get(i).sign(Kinds.GIFT_WRAP, List.of(List.of("p", recipient.pubkey())), "sealed " + i);
                JsonNode ok = a.publishAndWait(wrap);
                assertTrue(accepted(ok), ok.toString());
                published.add(wrap.id());
            }
            JsonNode overBudget = a.publishAndWait(throwaway.get(3).sign(Kinds.GIFT_WRAP, List.of(List.of("p", recipient.pubkey())), "one too many"));
            assertFalse(accepted(overBudget));
            assertTrue(message(overBudget).startsWith("rate-limited:") && message(overBudget).contains("pubkey"), overBudget.toString());
            // The throwaway key that signed the refused wrap was never charged: another agent publishes with it.
            Event viaOther = throwaway.get(3).sign(Kinds.GIFT_WRAP, List.of(List.of("p", recipient.pubkey())), "from another agent");
            assertTrue(accepted(b.publishAndWait(viaOther)));
            published.add(viaOther.id());
            assertEquals(published, r.eventsFor("inbox", 4, 5000).stream().map(e -> e.get("id").asText()).toList());
        }
    }

    @Test
    void openKindsLetClientsThatCannotAnswerAuthPublishAndReadOnlyThoseKinds() throws Exception {
        String toml = "[auth]\nopen_kinds = [25910, 1059, \"11316-11320\"]\n";
        try (TestRelay relay = TestRelay.start(dir, toml);
             RelayClient server = RelayClient.connect(relay);
             RelayClient client = RelayClient.connect(relay)) {
            NostrKey serverKey = NostrKey.generate();
            server.req("requests", "{\"kinds\":[25910,1059],\"#p\":[\"" + serverKey.pubkey() + "\"]}");
            server.expect("EOSE", 5000);
            Event request = customer.sign(25910, List.of(List.of("p", serverKey.pubkey())), "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"}");
            assertTrue(accepted(client.publishAndWait(request)));
            assertEquals(request.id(), server.eventsFor("requests", 1, 5000).get(0).get("id").asText());
            Event announcement = serverKey.sign(11316, List.of(), "{\"name\":\"calculator\"}");
            assertTrue(accepted(server.publishAndWait(announcement)));
            assertEquals(List.of(announcement.id()), client.queryIds("servers", "{\"kinds\":[11316]}"));

            JsonNode note = client.publishAndWait(customer.sign(1, "not an open kind"));
            assertFalse(accepted(note));
            assertTrue(message(note).startsWith("auth-required:"), note.toString());
            client.req("mixed", "{\"kinds\":[25910,1]}");
            assertTrue(client.expect("CLOSED", 5000).get(2).asText().startsWith("auth-required:"));
            client.req("everything", "{\"#p\":[\"" + serverKey.pubkey() + "\"]}");
            assertTrue(client.expect("CLOSED", 5000).get(2).asText().startsWith("auth-required:"));

            JsonNode info = RelayClient.JSON.readTree(HttpClient.newHttpClient().send(
                    HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + relay.port() + "/")).header("Accept", "application/nostr+json").build(),
                    HttpResponse.BodyHandlers.ofString()).body());
            assertEquals("[1059,[11316,11320],25910]", info.get("limitation").get("auth_open_kinds").toString());
        }
    }

    @Test
    void aFloodOfJobsFromAFreshKeyIsStoppedAtItsBudgetWhileANamedPoolKeyHasItsOwn() throws Exception {
        NostrKey fresh = NostrKey.generate();
        NostrKey pool = NostrKey.generate();
        String toml = "[[rate_limits.pubkey]]\npubkey = \"" + pool.pubkey() + "\"\njobs_per_second = 0\n";
        try (TestRelay relay = TestRelay.start(dir, toml);
             RelayClient flooder = RelayClient.connect(relay);
             RelayClient orchestrator = RelayClient.connect(relay)) {
            flooder.authenticate(fresh, relay);
            orchestrator.authenticate(pool, relay);
            int sent = 1500;
            List<Event> jobs = new ArrayList<>();
            for (int i = 0; i < sent; i++) jobs.add(fresh.sign(5050, List.of(), "flood " + i));
            List<Event> poolJobs = new ArrayList<>();
            for (int i = 0; i < 700; i++) poolJobs.add(pool.sign(5050, List.of(), "pool job " + i));
            long start = System.nanoTime();
            for (Event e : jobs) flooder.publish(e);
            for (Event e : poolJobs) orchestrator.publish(e);
            int accepted = 0, limited = 0;
            for (Event e : jobs) {
                JsonNode ok = flooder.ok(e.id());
                assertNotNull(ok);
                if (accepted(ok)) accepted++;
                else if (message(ok).startsWith("rate-limited:")) limited++;
            }
            double seconds = (System.nanoTime() - start) / 1e9;
            double allowed = 500 + 200 * seconds + 1;
            assertTrue(limited > 0, "a flood of " + sent + " jobs from one fresh key must be refused in part");
            assertTrue(accepted <= allowed, accepted + " accepted in " + seconds + " s, the default budget allows " + allowed);
            assertEquals(sent, accepted + limited);
            for (Event e : poolJobs) assertTrue(accepted(orchestrator.ok(e.id())), "the pool's own budget is unlimited");
            JsonNode info = RelayClient.JSON.readTree(HttpClient.newHttpClient().send(
                    HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + relay.port() + "/")).header("Accept", "application/nostr+json").build(),
                    HttpResponse.BodyHandlers.ofString()).body());
            JsonNode limitation = info.get("limitation");
            assertEquals(200.0, limitation.get("jobs_per_second").asDouble());
            assertEquals(500, limitation.get("jobs_burst").asInt());
            assertEquals(pool.pubkey(), limitation.get("pubkey_budgets").get(0).get("pubkey").asText());
            assertEquals(0.0, limitation.get("pubkey_budgets").get(0).get("jobs_per_second").asDouble());
            assertEquals("[[5000,5999],68001]", limitation.get("job_kinds").toString());
            assertNull(limitation.get("auth_open_kinds"));
        }
    }
}
