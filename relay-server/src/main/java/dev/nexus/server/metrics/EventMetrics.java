package dev.nexus.server.metrics;

import dev.nexus.core.Kinds;
import dev.nexus.core.MarketplaceKinds;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/** EVENTs answered, by kind class and outcome; both labels are folded into fixed sets. */
final class EventMetrics {
    /** The machine-readable prefixes of NIP-01 OK and CLOSED messages; anything else counts as "error". */
    private static final Set<String> REFUSAL_PREFIXES = Set.of("invalid", "rate-limited", "blocked", "auth-required", "restricted",
            "error", "pow", "mute");

    private final MeterRegistry registry;
    private final Map<String, Counter> events = new ConcurrentHashMap<>();

    EventMetrics(MeterRegistry registry) {
        this.registry = registry;
    }

    void answered(String kindClass, String outcome) {
        events.computeIfAbsent(kindClass + ' ' + outcome, k -> Counter.builder("nexus.events")
                .tag("kind_class", kindClass).tag("outcome", outcome)
                .description("EVENTs answered, by kind class and outcome (the OK message's prefix; stored: accepted and new)")
                .register(registry)).increment();
    }

    static String outcome(boolean accepted, String message) {
        if (accepted) return message.startsWith("duplicate:") ? "duplicate" : "stored";
        int colon = message.indexOf(':');
        String prefix = colon > 0 ? message.substring(0, colon) : "";
        return REFUSAL_PREFIXES.contains(prefix) ? prefix : "error";
    }

    static String kindClass(MarketplaceKinds marketplace, int kind) {
        if (marketplace.isJobTraffic(kind)) return "job";
        if (Kinds.isEphemeral(kind)) return "ephemeral";
        if (Kinds.isReplaceable(kind)) return "replaceable";
        if (Kinds.isAddressable(kind)) return "addressable";
        return "regular";
    }
}
