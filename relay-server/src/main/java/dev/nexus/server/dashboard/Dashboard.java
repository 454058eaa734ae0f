package dev.nexus.server.dashboard;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.Locale;
import java.util.Map;

/**
 * The marketplace dashboard over plain HTTP: the page for browsers at any path (server-rendered, so
 * the figures and the last jobs read without JavaScript), {@code /dashboard.json} that the page's
 * script polls, and the script and stylesheet from the jar.
 */
public final class Dashboard {
    public static final String JSON_PATH = "/dashboard.json";
    private static final String JS_PATH = "/dashboard.js";
    private static final String CSS_PATH = "/dashboard.css";
    private static final JsonFactory JSON = new JsonFactory();

    /** What to send back. */
    public record Response(String contentType, byte[] body) {}

    private final MarketplaceBoard board;
    private final String name;
    private final String description;
    private final byte[] script;
    private final byte[] stylesheet;

    public Dashboard(MarketplaceBoard board, String name, String description) {
        this.board = board;
        this.name = name;
        this.description = description;
        this.script = resource("dashboard.js");
        this.stylesheet = resource("dashboard.css");
    }

    /** The JSON and the static files; null for any other path (the caller serves the page or NIP-11). */
    public Response asset(String uri) {
        String path = pathOf(uri);
        return switch (path) {
            case JSON_PATH -> new Response("application/json", json(board.snapshot()));
            case JS_PATH -> new Response("text/javascript; charset=utf-8", script);
            case CSS_PATH -> new Response("text/css; charset=utf-8", stylesheet);
            default -> null;
        };
    }

    public Response page() {
        return new Response("text/html; charset=utf-8", html(board.snapshot()).getBytes(StandardCharsets.UTF_8));
    }

    private static String pathOf(String uri) {
        int q = uri.indexOf('?');
        return q < 0 ? uri : uri.substring(0, q);
    }

    String html(MarketplaceBoard.Snapshot s) {
        StringBuilder h = new StringBuilder(8192);
        h.append("<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">")
                .append("<title>").append(escape(name)).append(" \u2014 marketplace</title><link rel=\"stylesheet\" href=\"").append(CSS_PATH).append("\"></head><body>")
                .append("<header><h1>").append(escape(name)).append("</h1><p>").append(escape(description)).append("</p>")
                .append("<p class=\"note\">This is a Nostr relay. Connect with a Nostr client over WebSocket at this address; relay information (NIP-11) ")
                .append("is served for <code>Accept: application/nostr+json</code>. Below: this relay's job marketplace, live.</p></header><main>");

        h.append("<section class=\"tiles\">");
        tile(h, "connections", "Connected sockets", String.valueOf(s.agents().connections()));
        tile(h, "authenticated", "Authenticated agents", String.valueOf(s.agents().authenticatedPubkeys()));
        tile(h, "requests", "Job requests", String.valueOf(s.requests()));
        tile(h, "feedback", "Feedback", String.valueOf(s.feedback()));
        tile(h, "results", "Results", String.valueOf(s.results()));
        tile(h, "first-feedback-median", "To first feedback (median)", seconds(s.toFirstFeedback().median()));
        tile(h, "first-feedback-p95", "To first feedback (p95)", seconds(s.toFirstFeedback().p95()));
        tile(h, "result-median", "To result (median)", seconds(s.toResult().median()));
        tile(h, "result-p95", "To result (p95)", seconds(s.toResult().p95()));
        h.append("</section>");

        h.append("<section><h2>Job requests per minute, last hour</h2><div id=\"chart\" class=\"chart\"><p class=\"note\">")
                .append(s.requestsPerMinute().stream().mapToLong(Long::longValue).sum()).append(" requests in the last hour")
                .append(" (the chart needs JavaScript).</p></div>");
        h.append("<table id=\"kinds\"><thead><tr><th>Kind</th><th>This minute</th><th>Last hour</th></tr></thead><tbody>");
        if (s.kinds().isEmpty()) h.append("<tr><td colspan=\"3\">no job requests in the last hour</td></tr>");
        for (MarketplaceBoard.KindRate k : s.kinds()) {
            h.append("<tr><td>").append(k.kind()).append("</td><td>").append(k.lastMinute()).append("</td><td>").append(k.lastHour()).append("</td></tr>");
        }
        h.append("</tbody></table></section>");

        h.append("<section class=\"pair\"><div><h2>Feedback by status</h2><table id=\"statuses\"><tbody>");
        if (s.feedbackByStatus().isEmpty()) h.append("<tr><td colspan=\"2\">no feedback yet</td></tr>");
        for (Map.Entry<String, Long> f : s.feedbackByStatus().entrySet()) {
            h.append("<tr><td><span class=\"state ").append(escape(f.getKey())).append("\">").append(escape(f.getKey()))
                    .append("</span></td><td>").append(f.getValue()).append("</td></tr>");
        }
        h.append("</tbody></table></div><div><h2>Busiest providers</h2><table id=\"providers\"><thead><tr><th>Provider</th><th>Results</th><th>Feedback</th></tr></thead><tbody>");
        if (s.busiestProviders().isEmpty()) h.append("<tr><td colspan=\"3\">no providers yet</td></tr>");
        for (MarketplaceBoard.Provider p : s.busiestProviders()) {
            h.append("<tr><td><code>").append(escape(p.pubkey())).append("</code></td><td>").append(p.results()).append("</td><td>").append(p.feedback()).append("</td></tr>");
        }
        h.append("</tbody></table></div></section>");

        h.append("<section><h2>Last jobs</h2><table id=\"jobs\"><thead><tr><th>Job</th><th>Kind</th><th>State</th><th>Age</th><th>Provider</th>")
                .append("<th>First feedback</th><th>Result</th></tr></thead><tbody>");
        if (s.recentJobs().isEmpty()) h.append("<tr><td colspan=\"7\">no jobs yet</td></tr>");
        for (MarketplaceBoard.JobRow j : s.recentJobs()) {
            h.append("<tr data-job=\"").append(escape(j.id())).append("\"><td><code>").append(escape(j.id())).append("</code></td><td>").append(j.kind())
                    .append("</td><td><span class=\"state ").append(escape(j.state())).append("\">").append(escape(j.state())).append("</span></td><td>")
                    .append(j.ageSeconds()).append(" s</td><td>").append(j.provider() == null ? "\u2014" : "<code>" + escape(j.provider()) + "</code>")
                    .append("</td><td>").append(seconds(j.firstFeedbackSeconds())).append("</td><td>").append(seconds(j.resultSeconds())).append("</td></tr>");
        }
        h.append("</tbody></table></section></main><footer class=\"note\">Kinds, counts, states and shortened pubkeys only: no event content, ")
                .append("no restricted or encrypted traffic. Updated <span id=\"updated\">when this page was served</span>; ")
                .append("<a href=\"").append(JSON_PATH).append("\">JSON</a>.</footer>")
                .append("<script src=\"").append(JS_PATH).append("\" defer></script></body></html>\n");
        return h.toString();
    }

    private static void tile(StringBuilder h, String id, String label, String value) {
        h.append("<div class=\"tile\"><div class=\"value\" id=\"").append(id).append("\">").append(escape(value))
                .append("</div><div class=\"label\">").append(escape(label)).append("</div></div>");
    }

    static String seconds(Double s) {
        if (s == null) return "\u2014";
        return s < 10 ? String.format(Locale.ROOT, "%.2f s", s) : String.format(Locale.ROOT, "%.0f s", s);
    }

    static byte[] json(MarketplaceBoard.Snapshot s) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(4096);
        try (JsonGenerator g = JSON.createGenerator(out)) {
            g.writeStartObject();
            g.writeNumberField("generatedAt", s.generatedAtMillis());
            g.writeObjectFieldStart("agents");
            g.writeNumberField("connections", s.agents().connections());
            g.writeNumberField("authenticatedPubkeys", s.agents().authenticatedPubkeys());
            g.writeEndObject();
            g.writeNumberField("requests", s.requests());
            g.writeNumberField("feedback", s.feedback());
            g.writeNumberField("results", s.results());
            g.writeArrayFieldStart("requestsPerMinute");
            for (long n : s.requestsPerMinute()) g.writeNumber(n);
            g.writeEndArray();
            g.writeArrayFieldStart("kinds");
            for (MarketplaceBoard.KindRate k : s.kinds()) {
                g.writeStartObject();
                g.writeNumberField("kind", k.kind());
                g.writeNumberField("lastMinute", k.lastMinute());
                g.writeNumberField("lastHour", k.lastHour());
                g.writeEndObject();
            }
            g.writeEndArray();
            g.writeObjectFieldStart("feedbackByStatus");
            for (Map.Entry<String, Long> f : s.feedbackByStatus().entrySet()) g.writeNumberField(f.getKey(), f.getValue());
            g.writeEndObject();
            latency(g, "toFirstFeedback", s.toFirstFeedback());
            latency(g, "toResult", s.toResult());
            g.writeArrayFieldStart("busiestProviders");
            for (MarketplaceBoard.Provider p : s.busiestProviders()) {
                g.writeStartObject();
                g.writeStringField("pubkey", p.pubkey());
                g.writeNumberField("results", p.results());
                g.writeNumberField("feedback", p.feedback());
                g.writeEndObject();
            }
            g.writeEndArray();
            g.writeArrayFieldStart("recentJobs");
            for (MarketplaceBoard.JobRow j : s.recentJobs()) {
                g.writeStartObject();
                g.writeStringField("id", j.id());
                g.writeNumberField("kind", j.kind());
                g.writeStringField("state", j.state());
                g.writeNumberField("ageSeconds", j.ageSeconds());
                g.writeStringField("provider", j.provider());
                nullableNumber(g, "firstFeedbackSeconds", j.firstFeedbackSeconds());
                nullableNumber(g, "resultSeconds", j.resultSeconds());
                g.writeEndObject();
            }
            g.writeEndArray();
            g.writeEndObject();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out.toByteArray();
    }

    private static void latency(JsonGenerator g, String field, MarketplaceBoard.Latency l) throws IOException {
        g.writeObjectFieldStart(field);
        nullableNumber(g, "median", l.median());
        nullableNumber(g, "p95", l.p95());
        g.writeNumberField("samples", l.samples());
        g.writeEndObject();
    }

    private static void nullableNumber(JsonGenerator g, String field, Double value) throws IOException {
        if (value == null) g.writeNullField(field);
        else g.writeNumberField(field, value);
    }

    private static byte[] resource(String file) {
        try (InputStream in = Dashboard.class.getResourceAsStream(file)) {
            if (in == null) throw new IllegalStateException("missing resource " + file + " beside " + Dashboard.class.getName());
            return in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static String escape(String s) {
        if (s == null) return "";
        return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\"", "&quot;");
    }
}
