package dev.nexus.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.nexus.core.Event;
import dev.nexus.core.testing.NostrKey;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * GET /metrics through a real relay: a real job flow and some refused events over WebSocket,
 * then the Prometheus exposition is scraped over HTTP, parsed, and its counters and histograms checked.
 */
class MetricsRelayTest {
    private static final HttpClient HTTP = HttpClient.newHttpClient();
    @TempDir Path dir;
    private final NostrKey buyer = NostrKey.generate();
    private final NostrKey provider = NostrKey.generate();
    private final NostrKey mallory = NostrKey.generate();

    @Test
    void aJobFlowAndRefusedEventsMoveTheCountersAndHistograms() throws Exception {
        String toml = """
                [auth]
                required = "writes"
                denied_pubkeys = ["%s"]
                [rate_limits]
                exempt_ips = []
                events_per_second = 0.001
                events_burst = 5
                """.formatted(mallory.pubkey());
        try (TestRelay relay = TestRelay.start(dir, toml); RelayClient c = RelayClient.connect(relay); RelayClient anonymous = RelayClient.connect(relay)) {
            c.authenticate(buyer, relay);

            Event request = buyer.sign(5050, List.of(List.of("i", "what is 2+2", "text")), "");
            assertAccepted(c.publishAndWait(request));
            c.req("job", "{\"kinds\":[6050,7000],\"#e\":[\"" + request.id() + "\"]}");
            c.expect("EOSE", 5000);
            Thread.sleep(50); // the relay's clock for the request has to show some time passing before the replies
            List<List<String>> reply = List.of(List.of("e", request.id()), List.of("p", buyer.pubkey()));
            assertAccepted(c.publishAndWait(provider.sign(7000, withTag(reply, "status", "processing"), "")));
            assertAccepted(c.publishAndWait(provider.sign(7000, withTag(reply, "status", "success"), "")));
            Event result = provider.sign(6050, withTag(reply, "request", request.json()), "4");
            assertAccepted(c.publishAndWait(result));
            assertEquals("duplicate: already have this event", c.publishAndWait(result).get(3).asText());
            c.eventsFor("job", 3, 5000);

            // Five tokens for ordinary events: a bad signature, a note, a profile, an addressable and an ephemeral event.
            Event note = buyer.sign(1, "hello");
            Event forged = new Event(note.id(), note.pubkey(), note.createdAt(), note.kind(), note.tags(), note.content(),
                    (note.sig().charAt(0) == 'a' ? "b" : "a") + note.sig().substring(1));
            assertRefused(c.publishAndWait(forged), "invalid:");
            assertRefused(c.publishAndWait(mallory.sign(1, "spam")), "blocked:");
            assertAccepted(c.publishAndWait(note));
            assertAccepted(c.publishAndWait(buyer.sign(0, "{\"name\":\"buyer\"}")));
            assertAccepted(c.publishAndWait(buyer.sign(30078, List.of(List.of("d", "settings")), "{}")));
            assertAccepted(c.publishAndWait(buyer.sign(20001, "typing")));
            assertRefused(c.publishAndWait(buyer.sign(1, "one too many")), "rate-limited:");
            assertRefused(anonymous.publishAndWait(buyer.sign(1, "who am I")), "auth-required:");
            c.send("[\"NOPE\"]");
            c.expect("NOTICE", 5000);

            HttpResponse<String> response = get(relay, null);
            assertEquals(200, response.statusCode(), response.body());
            assertTrue(response.headers().firstValue("content-type").orElse("").startsWith("text/plain; version=0.0.4"));
            Exposition m = Exposition.parse(response.body());

            assertEquals(4, m.value("nexus_events_total", "kind_class", "job", "outcome", "stored"), m.dump("nexus_events_total"));
            assertEquals(1, m.value("nexus_events_total", "kind_class", "job", "outcome", "duplicate"));
            for (String kindClass : List.of("regular", "replaceable", "addressable", "ephemeral")) {
                assertEquals(1, m.value("nexus_events_total", "kind_class", kindClass, "outcome", "stored"), kindClass);
            }
            for (String refusal : List.of("invalid", "blocked", "rate-limited", "auth-required")) {
                assertEquals(1, m.value("nexus_events_total", "kind_class", "regular", "outcome", refusal), refusal);
            }
            assertEquals(1, m.value("nexus_job_requests_total", "kind", "5050"));
            assertEquals(1, m.value("nexus_job_feedback_total", "status", "processing"));
            assertEquals(1, m.value("nexus_job_feedback_total", "status", "success"));
            assertEquals(1, m.value("nexus_job_results_total", "kind", "6050"));
            assertEquals(1, m.value("nexus_job_first_feedback_seconds_count", "kind", "5050"));
            assertEquals(1, m.value("nexus_job_result_seconds_count", "kind", "5050"));
            double toFeedback = m.value("nexus_job_first_feedback_seconds_sum", "kind", "5050");
            double toResult = m.value("nexus_job_result_seconds_sum", "kind", "5050");
            assertTrue(toFeedback >= 0.05 && toFeedback < 30, "time to first feedback " + toFeedback);
            assertTrue(toResult >= toFeedback, "the result came after the first feedback: " + toResult + " < " + toFeedback);
            assertEquals(1, m.value("nexus_job_result_seconds_bucket", "kind", "5050", "le", "+Inf"));
            assertEquals(0, m.value("nexus_jobs_pending"), "the request got its result");

            assertEquals(13, m.value("nexus_messages_in_total", "verb", "EVENT"));
            assertEquals(1, m.value("nexus_messages_in_total", "verb", "AUTH"));
            assertEquals(1, m.value("nexus_messages_in_total", "verb", "REQ"));
            assertEquals(1, m.value("nexus_messages_in_total", "verb", "malformed"));
            assertEquals(14, m.value("nexus_messages_out_total", "type", "OK"), "13 EVENTs and 1 AUTH answered");
            assertEquals(2, m.value("nexus_messages_out_total", "type", "AUTH"), "one challenge per connection");
            assertEquals(1, m.value("nexus_messages_out_total", "type", "EOSE"));
            assertEquals(3, m.value("nexus_messages_out_total", "type", "EVENT"));
            assertEquals(3, m.value("nexus_fanout_deliveries_total"), "two feedbacks and the result reached the subscription live");
            assertEquals(0, m.value("nexus_fanout_drops_total"));
            assertEquals(3, m.value("nexus_fanout_delay_seconds_count"), "each live delivery's time from the fan-out to the flush: " + m.dump("nexus_fanout_delay"));
            double delaySum = m.value("nexus_fanout_delay_seconds_sum");
            assertTrue(delaySum > 0 && delaySum < 30, "three delays of a quiet relay, in seconds: " + delaySum);
            assertEquals(1, m.value("nexus_subscriptions"));

            // Signatures of 9 EVENTs (not the blocked, rate-limited or refused-before-auth ones, nor the duplicate) and the AUTH.
            assertEquals(10, m.value("nexus_verify_seconds_count"), m.dump("nexus_verify_seconds"));
            assertEquals(10, m.value("nexus_verify_seconds_bucket", "le", "+Inf"));
            assertEquals(7, m.value("nexus_write_seconds_count"), "every non-ephemeral event with a good signature went to the writer");
            assertEquals(7, m.value("nexus_write_batch_size_events_sum"), m.dump("nexus_write_batch"));
            assertTrue(m.value("nexus_write_batch_size_events_count") >= 1);
            assertTrue(m.value("nexus_write_batch_seconds_count") >= 1);
            assertTrue(m.value("nexus_query_seconds_count", "operation", "query") >= 1);
            for (String queue : List.of("verifiers", "writer", "query")) assertEquals(0, m.value("nexus_queue_depth", "queue", queue), queue);

            assertEquals(3, m.value("nexus_connections_opened_total"), "two WebSockets and this scrape");
            assertEquals(3, m.value("nexus_connections_open"));
            assertTrue(m.value("nexus_store_size_bytes") > 4096, "the SQLite file and its WAL");
            assertTrue(m.value("nexus_sqlite_wal_file_bytes") > 0, "the WAL holds the commits not yet folded back");
            assertTrue(m.value("nexus_sqlite_wal_in_use_bytes") > 0, "frames in use since the last reset");
            assertEquals(0, m.value("nexus_sqlite_wal_resets_total"), "seven small events stay far below the bound");
            assertTrue(m.value("nexus_process_resident_memory_bytes") > 10_000_000);
            assertTrue(m.has("jvm_memory_used_bytes"));
            assertTrue(m.has("jvm_gc_pause_seconds_count") || m.has("jvm_gc_memory_allocated_bytes_total"));
            assertFalse(response.body().contains(buyer.pubkey()), "no pubkey as a label");
            assertFalse(response.body().contains(request.id()), "no event id as a label");

            anonymous.close();
            double closedByClient = 0;
            for (int i = 0; i < 100 && closedByClient < 1; i++) {
                Thread.sleep(50);
                closedByClient = Exposition.parse(get(relay, null).body()).value("nexus_connections_closed_total", "reason", "client");
            }
            assertTrue(closedByClient >= 1, "the closed WebSocket (and earlier scrapes) counted as closed by the client");
        }
    }

    @Test
    void metricsAreRefusedToARemoteClientUnlessAllowedAndAbsentWhenDisabled() throws Exception {
        try (TestRelay relay = TestRelay.start(dir, "[server]\nreal_ip_header = \"X-Forwarded-For\"\n")) {
            HttpResponse<String> remote = get(relay, "203.0.113.7");
            assertEquals(403, remote.statusCode());
            assertFalse(remote.body().contains("nexus_"), remote.body());
            assertEquals(403, get(relay, "127.0.0.1, 198.51.100.2").statusCode(), "the proxy's entry, not the client's own, decides");
            assertEquals(200, get(relay, "127.0.0.1").statusCode(), "a client on the proxy's machine");
            assertEquals(200, get(relay, null).statusCode(), "a local scraper talking to the relay directly");
            assertEquals(0, Exposition.parse(get(relay, null).body()).value("nexus_connections_refused_total", "limit", "max_connections_per_ip"),
                    "nothing was refused at a cap");
        }
        try (TestRelay relay = TestRelay.start(dir.resolve("remote"), "[server]\nreal_ip_header = \"X-Forwarded-For\"\n[metrics]\nallow_remote = true\n")) {
            assertEquals(200, get(relay, "203.0.113.7").statusCode());
        }
        try (TestRelay relay = TestRelay.start(dir.resolve("off"), "[metrics]\nenabled = false\n")) {
            assertEquals(404, get(relay, null).statusCode());
        }
    }

    private static HttpResponse<String> get(TestRelay relay, String forwardedFor) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + relay.port() + "/metrics"));
        if (forwardedFor != null) b.header("X-Forwarded-For", forwardedFor);
        return HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    private static List<List<String>> withTag(List<List<String>> tags, String name, String value) {
        List<List<String>> all = new java.util.ArrayList<>(tags);
        all.add(List.of(name, value));
        return all;
    }

    private static void assertAccepted(JsonNode ok) {
        assertTrue(ok.get(2).asBoolean(), ok.toString());
    }

    private static void assertRefused(JsonNode ok, String prefix) {
        assertFalse(ok.get(2).asBoolean(), ok.toString());
        assertTrue(ok.get(3).asText().startsWith(prefix), ok.toString());
    }

    /** The Prometheus text format, read the way a scraper reads it: one sample per line, name{labels} value. */
    static final class Exposition {
        private final Map<String, Map<Map<String, String>, Double>> samples = new TreeMap<>();

        static Exposition parse(String text) {
            Exposition e = new Exposition();
            for (String line : text.split("\n")) {
                if (line.isBlank() || line.startsWith("#")) continue;
                int brace = line.indexOf('{');
                int space = line.lastIndexOf(' ');
                String name;
                Map<String, String> labels = new TreeMap<>();
                if (brace >= 0 && brace < space) {
                    name = line.substring(0, brace);
                    String body = line.substring(brace + 1, line.lastIndexOf('}'));
                    for (String pair : body.split(",(?=[a-zA-Z_]+=\")")) {
                        if (pair.isEmpty()) continue;
                        int eq = pair.indexOf('=');
                        labels.put(pair.substring(0, eq), pair.substring(eq + 2, pair.length() - 1));
                    }
                } else {
                    name = line.substring(0, space);
                }
                e.samples.computeIfAbsent(name, n -> new HashMap<>()).put(labels, Double.parseDouble(line.substring(space + 1)));
            }
            return e;
        }

        boolean has(String name) {
            return samples.containsKey(name);
        }

        /** The sample with these labels (others may be present and are ignored when only one sample matches); 0 when absent. */
        double value(String name, String... labelPairs) {
            Map<Map<String, String>, Double> byLabels = samples.getOrDefault(name, Map.of());
            double sum = 0;
            int matches = 0;
            for (Map.Entry<Map<String, String>, Double> s : byLabels.entrySet()) {
                boolean match = true;
                for (int i = 0; i < labelPairs.length; i += 2) match &= labelPairs[i + 1].equals(s.getKey().get(labelPairs[i]));
                if (match) {
                    sum += s.getValue();
                    matches++;
                }
            }
            assertTrue(matches <= 1 || labelPairs.length == 0, name + " " + List.of(labelPairs) + " matches " + matches + " samples");
            return sum;
        }

        String dump(String prefix) {
            StringBuilder b = new StringBuilder();
            samples.forEach((n, v) -> {
                if (n.startsWith(prefix)) b.append(n).append(' ').append(v).append('\n');
            });
            return b.toString();
        }
    }
}
