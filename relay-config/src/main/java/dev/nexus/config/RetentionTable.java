package dev.nexus.config;

import dev.nexus.config.NexusConfig.Retention;

/** Reads and checks {@code [retention]}; unknown keys are errors. */
final class RetentionTable {
    private RetentionTable() {}

    static Retention parse(Section s) throws ConfigException {
        Retention retention = new Retention(
                s.integer("job_request_seconds", 86400L, 0L, Long.MAX_VALUE),
                s.integer("job_result_seconds", 7 * 86400L, 0L, Long.MAX_VALUE),
                s.integer("job_feedback_seconds", 86400L, 0L, Long.MAX_VALUE),
                s.integer("sweep_interval_seconds", 60, 1, 86400),
                s.integer("sweep_batch", 500, 1, 100000));
        s.rejectUnknownKeys();
        return retention;
    }
}
