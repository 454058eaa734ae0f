package dev.nexus.server;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import dev.nexus.config.NexusConfig;
import java.io.IOException;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.util.List;
import java.util.Map;
import dev.nexus.core.KindRanges;
import dev.nexus.core.MarketplaceKinds;

/** The NIP-11 relay information document, rendered from the config at start and again when an operator renames the relay (NIP-86). */
final class RelayInfo {
    /** Only NIPs this relay really implements (77 is added when negentropy is enabled, 86 when the management API is served). */
    static final List<Integer> SUPPORTED_NIPS = List.of(1, 9, 11, 40, 42, 45, 70, 89, 90);

    static List<Integer> supportedNips(NexusConfig c) {
        if (!c.limits().negentropyEnabled() && !c.managementServed()) return SUPPORTED_NIPS;
        List<Integer> nips = new java.util.ArrayList<>(SUPPORTED_NIPS);
        if (c.limits().negentropyEnabled()) nips.add(77);
        if (c.managementServed()) nips.add(86);
        nips.sort(null);
        return List.copyOf(nips);
    }

    private RelayInfo() {}

    static String render(NexusConfig c, String version) {
        return render(c, version, new dev.nexus.server.nip86.RelayModeration.Identity(null, null, null));
    }

    /** With the name, description and icon an operator set through NIP-86 in place of the configured ones. */
    static String render(NexusConfig c, String version, dev.nexus.server.nip86.RelayModeration.Identity identity) {
        StringWriter out = new StringWriter();
        try (JsonGenerator g = new JsonFactory().createGenerator(out)) {
            g.writeStartObject();
            g.writeStringField("name", identity.name() != null ? identity.name() : c.server().name());
            g.writeStringField("description", identity.description() != null ? identity.description() : c.server().description());
            if (identity.icon() != null && !identity.icon().isEmpty()) g.writeStringField("icon", identity.icon());
            if (!c.server().pubkey().isEmpty()) g.writeStringField("pubkey", c.server().pubkey());
            if (!c.server().contact().isEmpty()) g.writeStringField("contact", c.server().contact());
            g.writeArrayFieldStart("supported_nips");
            for (int nip : supportedNips(c)) g.writeNumber(nip);
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
            g.writeBooleanField("restricted_writes", c.auth().requiredForWrites() || !c.auth().allowedPubkeys().isEmpty() || !l.allowedKinds().isEmpty());
            if (l.createdAtLowerLimit() > 0) g.writeNumberField("created_at_lower_limit", l.createdAtLowerLimit());
            if (l.createdAtUpperLimit() > 0) g.writeNumberField("created_at_upper_limit", l.createdAtUpperLimit());
            // Nexus's own limits, advertised so agents can pace themselves.
            if (l.negentropyEnabled()) {
                g.writeNumberField("max_negentropy_events", l.maxNegentropyEvents());
                g.writeNumberField("max_negentropy_sessions", l.maxNegentropySessions());
            }
            g.writeNumberField("max_connections_per_ip", r.maxConnectionsPerIp());
            g.writeNumberField("connections_per_second", r.connectionsPerSecond());
            g.writeNumberField("connections_burst", r.connectionsBurst());
            budget(g, r.defaultBudget());
            if (!r.pubkeyBudgets().isEmpty()) {
                g.writeArrayFieldStart("pubkey_budgets");
                for (Map.Entry<String, NexusConfig.Budget> own : r.pubkeyBudgets().entrySet()) {
                    g.writeStartObject();
                    g.writeStringField("pubkey", own.getKey());
                    budget(g, own.getValue());
                    g.writeEndObject();
                }
                g.writeEndArray();
            }
            MarketplaceKinds m = c.marketplace().kinds();
            kinds(g, "job_kinds", m.jobRequests());
            kinds(g, "job_result_kinds", m.jobResults());
            kinds(g, "job_feedback_kinds", m.jobFeedback());
            kinds(g, "agent_kinds", m.agentMessages());
            if (c.auth().requiredForWrites() && !c.auth().openKinds().isEmpty()) kinds(g, "auth_open_kinds", c.auth().openKinds());
            if (!l.allowedKinds().isEmpty()) kinds(g, "allowed_kinds", l.allowedKinds());
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
            retention(g, m.jobRequests(), "time", ret.jobRequestSeconds());
            retention(g, m.jobResults(), "time", ret.jobResultSeconds());
            retention(g, m.jobFeedback(), "time", ret.jobFeedbackSeconds());
            retention(g, KindRanges.of("20000-29999"), "count", 0); // ephemeral kinds are never stored
            g.writeEndArray();
            g.writeEndObject();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out.toString();
    }

    /** The budgets in force, under the names of the config keys ("jobs" is all job traffic, not only requests). */
    private static void budget(JsonGenerator g, NexusConfig.Budget b) throws IOException {
        g.writeNumberField("events_per_second", b.eventsPerSecond());
        g.writeNumberField("events_burst", b.eventsBurst());
        g.writeNumberField("jobs_per_second", b.jobsPerSecond());
        g.writeNumberField("jobs_burst", b.jobsBurst());
        g.writeNumberField("reqs_per_second", b.reqsPerSecond());
        g.writeNumberField("reqs_burst", b.reqsBurst());
    }

    private static void kinds(JsonGenerator g, String field, KindRanges kinds) throws IOException {
        g.writeArrayFieldStart(field);
        kindList(g, kinds);
        g.writeEndArray();
    }

    /** NIP-11 retention entry: single kinds as numbers, ranges as [from, to] pairs. */
    private static void retention(JsonGenerator g, KindRanges kinds, String field, long value) throws IOException {
        if (kinds.isEmpty()) return;
        g.writeStartObject();
        g.writeArrayFieldStart("kinds");
        kindList(g, kinds);
        g.writeEndArray();
        g.writeNumberField(field, value);
        g.writeEndObject();
    }

    private static void kindList(JsonGenerator g, KindRanges kinds) throws IOException {
        for (KindRanges.Range r : kinds.ranges()) {
            if (r.from() == r.to()) {
                g.writeNumber(r.from());
            } else {
                g.writeStartArray();
                g.writeNumber(r.from());
                g.writeNumber(r.to());
                g.writeEndArray();
            }
        }
    }
}
