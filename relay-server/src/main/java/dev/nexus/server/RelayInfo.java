package dev.nexus.server;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import dev.nexus.config.NexusConfig;
import java.io.IOException;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.util.List;

/** The NIP-11 relay information document, rendered once from the config at start. */
final class RelayInfo {
    /** Only NIPs this relay really implements. */
    static final List<Integer> SUPPORTED_NIPS = List.of(1, 9, 11, 40, 42, 45, 70, 89, 90);

    private RelayInfo() {}

    static String render(NexusConfig c, String version) {
        StringWriter out = new StringWriter();
        try (JsonGenerator g = new JsonFactory().createGenerator(out)) {
            g.writeStartObject();
            g.writeStringField("name", c.server().name());
            g.writeStringField("description", c.server().description());
            if (!c.server().pubkey().isEmpty()) g.writeStringField("pubkey", c.server().pubkey());
            if (!c.server().contact().isEmpty()) g.writeStringField("contact", c.server().contact());
            g.writeArrayFieldStart("supported_nips");
            for (int nip : SUPPORTED_NIPS) g.writeNumber(nip);
            g.writeEndArray();
            g.writeStringField("software", "nexus");
            g.writeStringField("version", version);

            NexusConfig.Limits l = c.limits();
            NexusConfig.RateLimits r = c.rateLimits();
            g.writeObjectFieldStart("limitation");
            g.writeNumberField("max_message_length", l.maxMessageBytes());
            g.writeNumberField("max_subscriptions", l.maxSubscriptions());
            g.writeNumberField("max_filters", l.maxFilters());
            g.writeNumberField("max_limit", l.maxLimit());
            g.writeNumberField("default_limit", l.maxLimit());
            g.writeNumberField("max_subid_length", l.maxSubidLength());
            g.writeNumberField("max_event_tags", l.maxEventTags());
            g.writeNumberField("max_content_length", l.maxContentLength());
            g.writeNumberField("min_pow_difficulty", 0);
            g.writeBooleanField("auth_required", c.auth().requiredForReads());
            g.writeBooleanField("payment_required", false);
            g.writeBooleanField("restricted_writes", c.auth().requiredForWrites() || !c.auth().allowedPubkeys().isEmpty());
            if (l.createdAtLowerLimit() > 0) g.writeNumberField("created_at_lower_limit", l.createdAtLowerLimit());
            if (l.createdAtUpperLimit() > 0) g.writeNumberField("created_at_upper_limit", l.createdAtUpperLimit());
            // Nexus's own limits, advertised so agents can pace themselves.
            g.writeNumberField("max_connections_per_ip", r.maxConnectionsPerIp());
            g.writeNumberField("events_per_second", r.eventsPerSecond());
            g.writeNumberField("events_burst", r.eventsBurst());
            g.writeNumberField("job_requests_per_second", r.jobsPerSecond());
            g.writeNumberField("job_requests_burst", r.jobsBurst());
            g.writeNumberField("reqs_per_second", r.reqsPerSecond());
            g.writeNumberField("reqs_burst", r.reqsBurst());
            g.writeNumberField("max_outbound_bytes", l.maxOutboundBytes());
            g.writeNumberField("max_auths_per_connection", c.auth().maxAuthsPerConnection());
            g.writeNumberField("max_failed_auths", c.auth().maxFailedAuths());
            g.writeNumberField("max_connections", c.server().maxConnections());
            g.writeNumberField("max_pre_upgrade_connections", c.server().maxPreUpgradeConnections());
            g.writeNumberField("http_request_timeout_seconds", c.server().httpRequestTimeoutSeconds());
            g.writeNumberField("max_total_subscriptions", l.maxTotalSubscriptions());
            g.writeNumberField("max_total_filter_values", l.maxTotalFilterValues());
            g.writeNumberField("max_events_in_flight", l.maxEventsInFlight());
            g.writeNumberField("max_queued_queries", l.maxQueuedQueries());
            g.writeNumberField("max_query_millis", l.maxQueryMillis());
            g.writeEndObject();

            NexusConfig.Retention ret = c.retention();
            g.writeArrayFieldStart("retention");
            retention(g, 5000, 5999, "time", ret.jobRequestSeconds());
            retention(g, 6000, 6999, "time", ret.jobResultSeconds());
            retention(g, 7000, 7000, "time", ret.jobFeedbackSeconds());
            retention(g, 20000, 29999, "count", 0); // ephemeral kinds are never stored
            g.writeEndArray();
            g.writeEndObject();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out.toString();
    }

    private static void retention(JsonGenerator g, int fromKind, int toKind, String field, long value) throws IOException {
        g.writeStartObject();
        g.writeArrayFieldStart("kinds");
        g.writeStartArray();
        g.writeNumber(fromKind);
        g.writeNumber(toKind);
        g.writeEndArray();
        g.writeEndArray();
        g.writeNumberField(field, value);
        g.writeEndObject();
    }
}
