package dev.nexus.config;

import dev.nexus.config.NexusConfig.Limits;
import dev.nexus.core.KindRanges;

/** Reads and checks {@code [limits]}; unknown keys are errors. */
final class LimitsTable {
    private LimitsTable() {}

    static Limits parse(Section s) throws ConfigException {
        Limits limits = new Limits(
                s.integer("max_message_bytes", 524288, 1024, 64 * 1024 * 1024),
                s.integer("max_subscriptions", 20, 1, 10000),
                s.integer("max_filters", 10, 1, 1000),
                s.integer("max_limit", 500, 1, 100000),
                s.integer("max_subid_length", 64, 1, 1024),
                s.integer("max_event_tags", 2000, 1, 100000),
                s.integer("max_content_length", 102400, 1, 64 * 1024 * 1024),
                s.integer("max_filter_values", 1000, 1, 100000),
                s.integer("created_at_lower_limit", 0L, 0L, Long.MAX_VALUE),
                s.integer("created_at_upper_limit", 900L, 0L, Long.MAX_VALUE),
                s.integer("max_outbound_bytes", 8 * 1024 * 1024, 64 * 1024, 1024 * 1024 * 1024),
                s.integer("max_total_subscriptions", 100_000, 1, 100_000_000),
                s.integer("max_total_filter_values", 2_000_000L, 1L, Long.MAX_VALUE),
                s.integer("max_events_in_flight", 20_000, 1, 10_000_000),
                s.integer("max_queued_queries", 2_000, 1, 10_000_000),
                s.integer("max_query_millis", 2_000, 0, 3_600_000),
                s.integer("max_negentropy_events", 500_000, 0, 50_000_000),
                s.integer("max_negentropy_sessions", 4, 1, 1000),
                s.kindRanges("allowed_kinds", KindRanges.NONE));
        s.rejectUnknownKeys();
        return limits;
    }
}
