package dev.nexus.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.nexus.core.Event;
import dev.nexus.core.testing.NostrKey;
import java.io.File;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The marketplace dashboard through a real relay: a signed job flow over WebSocket (request,
 * payment-required, processing, success, result; a second job left waiting for payment; an
 * encrypted job and a DM that must not show), then the page as served (no JavaScript), its JSON,
 * and the page rendered by Debian's chromium through playwright-core (interop/dashboard-browser.mjs).
 */
class DashboardRelayTest {
    private static final HttpClient HTTP = HttpClient.newHttpClient();
    private static final Path INTEROP = Path.of("..", "interop").toAbsolutePath().normalize();
    private static final Path CHROMIUM = Path.of(System.getenv().getOrDefault("CHROMIUM", "/usr/bin/chromium"));
    @TempDir Path dir;
    private final NostrKey buyer = NostrKey.generate();
    private final NostrKey provider = NostrKey.generate();

    private record Flow(Event paid, Event waiting, Event encrypted) {}

    private Flow publishJobFlow(TestRelay relay, RelayClient customer, RelayClient agent) throws Exception {
        customer.authenticate(buyer, relay);
        agent.authenticate(provider, relay);
        Event paid = buyer.sign(5050, List.of(List.of("i", "what is 2+2", "text")), "");
        accepted(customer.publishAndWait(paid));
        // The board hears of a commit after its OK, from the fan-out thread: the gaps below are
        // timed from when it has, or a slow fan-out would shorten them.
        awaitBoard(relay, "requests", 1);
        Thread.sleep(30);
        List<List<String>> reply = List.of(List.of("e", paid.id()), List.of("p", buyer.pubkey()));
        accepted(agent.publishAndWait(provider.sign(7000, with(reply, "status", "payment-required", List.of("amount", "1000")), "")));
        accepted(agent.publishAndWait(provider.sign(7000, with(reply, "status", "processing"), "")));
        accepted(agent.publishAndWait(provider.sign(7000, with(reply, "status", "success"), "")));
        awaitBoard(relay, "feedback", 3);
        Thread.sleep(20);
        accepted(agent.publishAndWait(provider.sign(6050, with(reply, "request", paid.json()), "the-answer-is-four")));

        Event waiting = buyer.sign(5100, List.of(List.of("i", "draw a cat", "text")), "");
        accepted(customer.publishAndWait(waiting));
        accepted(agent.publishAndWait(provider.sign(7000, List.of(List.of("e", waiting.id()), List.of("p", buyer.pubkey()),
                List.of("status", "payment-required")), "")));

        Event encrypted = buyer.sign(5050, List.of(List.of("encrypted"), List.of("p", provider.pubkey())), "sealed-ciphertext-for-the-provider");
        accepted(customer.publishAndWait(encrypted));
        accepted(customer.publishAndWait(buyer.sign(4, List.of(List.of("p", provider.pubkey())), "direct-message-ciphertext")));
        return new Flow(paid, waiting, encrypted);
    }

    private static void awaitBoard(TestRelay relay, String field, int value) throws Exception {
        long deadline = System.currentTimeMillis() + 10_000;
        while (RelayClient.JSON.readTree(get("http://127.0.0.1:" + relay.port() + "/dashboard.json", "*/*").body()).get(field).asInt() < value) {
            if (System.currentTimeMillis() > deadline) throw new AssertionError("the board never counted " + value + " " + field);
            Thread.sleep(5);
        }
    }

    @Test
    void theDashboardShowsAJobFlowWithAndWithoutJavaScript() throws Exception {
        try (TestRelay relay = TestRelay.start(dir, "[server]\nname = \"agents-market\"\n");
             RelayClient customer = RelayClient.connect(relay); RelayClient agent = RelayClient.connect(relay)) {
            Flow flow = publishJobFlow(relay, customer, agent);
            String base = "http://127.0.0.1:" + relay.port();

            // Fan-out hands commits to the board after the OK: wait until it has seen all of them.
            JsonNode json = null;
            long deadline = System.currentTimeMillis() + 10_000;
            while (System.currentTimeMillis() < deadline) {
                json = RelayClient.JSON.readTree(get(base + "/dashboard.json", "*/*").body());
                if (json.get("results").asInt() == 1 && json.get("feedback").asInt() == 4) break;
                Thread.sleep(50);
            }
            assertEquals(2, json.get("requests").asInt(), "the encrypted request is private: " + json);
            assertEquals(4, json.get("feedback").asInt());
            assertEquals(1, json.get("results").asInt());
            assertEquals(2, json.get("feedbackByStatus").get("payment-required").asInt());
            assertEquals(2, json.get("agents").get("authenticatedPubkeys").asInt());
            assertTrue(json.get("agents").get("connections").asInt() >= 2, json.toString());
            JsonNode paidJob = json.get("recentJobs").get(1);
            assertTrue(paidJob.get("firstFeedbackSeconds").asDouble() >= 0.03, json.toString());
            assertTrue(paidJob.get("resultSeconds").asDouble() >= paidJob.get("firstFeedbackSeconds").asDouble() + 0.02, json.toString());
            assertEquals(2, json.get("toFirstFeedback").get("samples").asInt());
            assertEquals(paidJob.get("firstFeedbackSeconds").asDouble(), json.get("toFirstFeedback").get("p95").asDouble(), 1e-9);
            assertEquals(paidJob.get("resultSeconds").asDouble(), json.get("toResult").get("median").asDouble(), 1e-9);
            assertEquals(2, json.get("recentJobs").size());
            assertEquals("payment-required", json.get("recentJobs").get(0).get("state").asText());
            assertEquals("result", json.get("recentJobs").get(1).get("state").asText());

            HttpResponse<String> page = get(base + "/", "text/html,application/xhtml+xml");
            assertEquals(200, page.statusCode());
            assertTrue(page.headers().firstValue("content-type").orElse("").startsWith("text/html"));
            String html = page.body();
            String paidRow = rowOf(html, flow.paid().id().substring(0, 8));
            assertTrue(paidRow.contains("<td>5050</td>") && paidRow.contains(">result<"), paidRow);
            String waitingRow = rowOf(html, flow.waiting().id().substring(0, 8));
            assertTrue(waitingRow.contains("<td>5100</td>") && waitingRow.contains(">payment-required<"), waitingRow);
            assertTrue(html.contains("id=\"requests\">2<"), "requests tile");
            assertTrue(html.contains("id=\"results\">1<"), "results tile");
            assertTrue(html.contains("id=\"authenticated\">2<"), "authenticated agents tile");
            assertTrue(html.contains(provider.pubkey().substring(0, 8) + "\u2026" + provider.pubkey().substring(60)), "the provider, shortened");
            assertTrue(html.contains("agents-market"));
            for (String secret : List.of("the-answer-is-four", "sealed-ciphertext", "direct-message", "what is 2+2", "draw a cat",
                    buyer.pubkey(), provider.pubkey(), flow.encrypted().id().substring(0, 8))) {
                assertFalse(html.contains(secret), "the page shows " + secret);
                assertFalse(json.toString().contains(secret), "the JSON shows " + secret);
            }
            assertEquals("application/nostr+json", get(base + "/", "application/nostr+json").headers().firstValue("content-type").orElse(""),
                    "NIP-11 is still served to Nostr clients");
            assertTrue(get(base + "/dashboard.js", "*/*").body().contains("/dashboard.json"));

            assumeTrue(onPath("node") && Files.isExecutable(CHROMIUM), "node or chromium is missing: .ci/run installs both");
            JsonNode shown = inBrowser(base + "/");
            assertTrue(shown.get("live").asBoolean(), shown.toString());
            assertEquals(0, shown.get("errors").size(), shown.toString());
            assertTrue(shown.get("chartBars").asInt() >= 1, "the chart has this minute's bar: " + shown);
            assertEquals("2", shown.get("tiles").get("requests").asText());
            assertEquals("1", shown.get("tiles").get("results").asText());
            List<String> states = new ArrayList<>();
            for (JsonNode job : shown.get("jobs")) states.add(job.get("kind").asText() + " " + job.get("state").asText());
            assertEquals(List.of("5100 payment-required", "5050 result"), states);
            assertEquals("2", shown.get("statuses").get("payment-required").asText());
            assertTrue(shown.get("providers").get(0).asText().startsWith(provider.pubkey().substring(0, 8)), shown.toString());
        }
    }

    private static String rowOf(String html, String idPrefix) {
        int start = html.indexOf("<tr data-job=\"" + idPrefix + "\"");
        assertTrue(start >= 0, "no row for job " + idPrefix);
        return html.substring(start, html.indexOf("</tr>", start));
    }

    private JsonNode inBrowser(String url) throws Exception {
        if (!Files.isDirectory(INTEROP.resolve("node_modules/playwright-core"))) {
            Process npm = new ProcessBuilder("npm", "ci", "--no-audit", "--no-fund").directory(INTEROP.toFile())
                    .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
            assertTrue(npm.waitFor(300, TimeUnit.SECONDS) && npm.exitValue() == 0, "npm ci in " + INTEROP + " failed");
        }
        Path stderr = dir.resolve("node.stderr");
        List<String> command = new ArrayList<>(List.of("node", "dashboard-browser.mjs", url));
        // To look at the page: NEXUS_DASHBOARD_SCREENSHOT=/tmp/dashboard.png mvn ... -Dtest=DashboardRelayTest
        String screenshot = System.getenv("NEXUS_DASHBOARD_SCREENSHOT");
        if (screenshot != null && !screenshot.isBlank()) command.add(screenshot);
        Process node = new ProcessBuilder(command).directory(INTEROP.toFile()).redirectError(stderr.toFile()).start();
        String out = new String(node.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
        assertTrue(node.waitFor(90, TimeUnit.SECONDS), "node did not finish");
        assertEquals(0, node.exitValue(), out + "\n" + Files.readString(stderr));
        String last = out.substring(out.lastIndexOf('\n') + 1);
        return RelayClient.JSON.readTree(last);
    }

    private static HttpResponse<String> get(String url, String accept) throws Exception {
        return HTTP.send(HttpRequest.newBuilder(URI.create(url)).header("Accept", accept).GET().build(), HttpResponse.BodyHandlers.ofString());
    }

    private static List<List<String>> with(List<List<String>> tags, String... extra) {
        List<List<String>> all = new ArrayList<>(tags);
        all.add(List.of(extra));
        return all;
    }

    private static List<List<String>> with(List<List<String>> tags, String name, String value, List<String> more) {
        List<List<String>> all = with(tags, name, value);
        all.add(more);
        return all;
    }

    private static void accepted(JsonNode ok) {
        assertTrue(ok.get(2).asBoolean(), ok.toString());
    }

    private static boolean onPath(String command) {
        for (String d : System.getenv().getOrDefault("PATH", "").split(File.pathSeparator)) {
            if (Files.isExecutable(Path.of(d, command))) return true;
        }
        return false;
    }
}
