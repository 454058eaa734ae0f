package dev.nexus.config;

import dev.nexus.config.NexusConfig.Budget;
import dev.nexus.config.NexusConfig.RateLimits;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Reads and checks {@code [rate_limits]} and its {@code [[rate_limits.pubkey]]}; unknown keys are errors. */
final class RateLimitsTable {
    private RateLimitsTable() {}

    static RateLimits parse(Section s) throws ConfigException {
        Budget def = budget(s, new Budget(50, 200, 200, 500, 50, 200));
        int maxConnections = s.integer("max_connections_per_ip", 256, 0, Integer.MAX_VALUE);
        // Each connection costs the relay its handshake, AUTH challenge and close (≈ 0.4 ms of CPU
        // on 2 vCPU): one address churning connections took 0.72 of a core without this, 0.26 with
        // the sockets over it closed on accept (ConnectionGate.acceptFilter).
        double connectionsPerSecond = s.number("connections_per_second", 10, 0, 1e9);
        int connectionsBurst = s.integer("connections_burst", 100, 1, Integer.MAX_VALUE);
        List<String> exempt = s.strings("exempt_ips", List.of("127.0.0.1", "::1"));
        Map<String, Budget> own = new LinkedHashMap<>();
        for (Section p : s.tables("pubkey")) {
            String pubkey = p.string("pubkey", "");
            if (!HexKeys.isHex64(pubkey)) throw new ConfigException(p.key("pubkey") + " must be 64 lowercase hex characters");
            if (own.containsKey(pubkey)) throw new ConfigException(p.key("pubkey") + ": " + pubkey + " has a budget already");
            own.put(pubkey, budget(p, def));
            p.rejectUnknownKeys();
        }
        RateLimits r = new RateLimits(def.eventsPerSecond(), def.eventsBurst(), def.jobsPerSecond(), def.jobsBurst(),
                def.reqsPerSecond(), def.reqsBurst(), maxConnections, connectionsPerSecond, connectionsBurst, exempt,
                Collections.unmodifiableMap(own));
        s.rejectUnknownKeys();
        return r;
    }

    /** The six budget keys of a table; what it leaves out comes from {@code inherited}. */
    private static Budget budget(Section s, Budget inherited) throws ConfigException {
        return new Budget(
                s.number("events_per_second", inherited.eventsPerSecond(), 0, 1e9),
                s.integer("events_burst", inherited.eventsBurst(), 1, Integer.MAX_VALUE),
                s.number("jobs_per_second", inherited.jobsPerSecond(), 0, 1e9),
                s.integer("jobs_burst", inherited.jobsBurst(), 1, Integer.MAX_VALUE),
                s.number("reqs_per_second", inherited.reqsPerSecond(), 0, 1e9),
                s.integer("reqs_burst", inherited.reqsBurst(), 1, Integer.MAX_VALUE));
    }
}
