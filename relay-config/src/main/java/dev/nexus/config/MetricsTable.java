package dev.nexus.config;

import dev.nexus.config.NexusConfig.Metrics;

/** Reads and checks {@code [metrics]}; unknown keys are errors. */
final class MetricsTable {
    private MetricsTable() {}

    static Metrics parse(Section s) throws ConfigException {
        Metrics m = new Metrics(s.bool("enabled", true), s.bool("allow_remote", false), s.integer("summary_log_seconds", 60, 0, 86400));
        s.rejectUnknownKeys();
        return m;
    }
}
