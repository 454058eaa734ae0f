package dev.nexus.config;

import dev.nexus.config.NexusConfig.Management;

/** Reads and checks {@code [management]}; unknown keys are errors. */
final class ManagementTable {
    private ManagementTable() {}

    static Management parse(Section s) throws ConfigException {
        Management m = new Management(s.bool("enabled", true), HexKeys.set(s, "admin_pubkeys"));
        s.rejectUnknownKeys();
        return m;
    }
}
