package dev.nexus.server.metrics;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.HashMap;
import java.util.Map;
import java.util.TreeMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The metrics in one log line for operators without Prometheus: what changed since the last line
 * (connections, events in by outcome, live events out, jobs, refusals by reason). Nothing is logged
 * for an interval in which nothing happened: no message came in, nothing was sent live, nothing was
 * refused and the relay closed nobody (connections alone, like scrapes, do not count).
 */
final class MetricsSummary {
    private static final Logger log = LoggerFactory.getLogger(MetricsSummary.class);

    private final MeterRegistry registry;
    /** Cumulative counts at the last line, by meter id. */
    private final Map<Meter.Id, Double> last = new HashMap<>();

    MetricsSummary(MeterRegistry registry) {
        this.registry = registry;
    }

    void logRecent() {
        String line = recent();
        if (line != null) log.info("{}", line);
    }

    /** The line for the interval since the last call, or null when nothing happened. */
    synchronized String recent() {
        long opened = delta("nexus.connections.opened");
        Map<String, Long> closed = deltaBy("nexus.connections.closed", "reason");
        Map<String, Long> refused = deltaBy("nexus.connections.refused", "limit");
        Map<String, Long> events = deltaBy("nexus.events", "outcome");
        Map<String, Long> messagesIn = deltaBy("nexus.messages.in", "verb");
        long delivered = delta("nexus.fanout.deliveries");
        long dropped = delta("nexus.fanout.drops");
        long requests = delta("nexus.job.requests");
        long feedback = delta("nexus.job.feedback");
        long results = delta("nexus.job.results");
        long eventsIn = sum(events);
        Map<String, Long> relayClosed = new TreeMap<>(closed);
        relayClosed.remove("client");
        // Sockets that come and go without a message (a Prometheus scrape, a health check) are not news.
        if (eventsIn == 0 && sum(messagesIn) == 0 && delivered == 0 && sum(refused) == 0 && sum(relayClosed) == 0) return null;

        StringBuilder b = new StringBuilder("activity: connections ").append(openNow()).append(" open, ")
                .append(opened).append(" opened, ").append(sum(closed)).append(" closed");
        appendReasons(b, relayClosed);
        if (sum(refused) > 0) b.append(", ").append(sum(refused)).append(" refused");
        appendReasons(b, refused);
        long stored = events.getOrDefault("stored", 0L);
        long duplicate = events.getOrDefault("duplicate", 0L);
        Map<String, Long> refusals = new TreeMap<>(events);
        refusals.remove("stored");
        refusals.remove("duplicate");
        b.append("; events in ").append(eventsIn).append(" (").append(stored).append(" stored, ").append(duplicate).append(" duplicate, ")
                .append(sum(refusals)).append(" refused");
        appendReasons(b, refusals);
        b.append("); live events out ").append(delivered);
        if (dropped > 0) b.append(" (").append(dropped).append(" dropped on slow consumers)");
        b.append("; jobs ").append(requests).append(" requests, ").append(feedback).append(" feedback, ").append(results).append(" results");
        return b.toString();
    }

    private long openNow() {
        Gauge g = registry.find("nexus.connections.open").gauge();
        return g == null ? 0 : (long) g.value();
    }

    private static void appendReasons(StringBuilder b, Map<String, Long> byReason) {
        StringBuilder reasons = new StringBuilder();
        for (Map.Entry<String, Long> e : byReason.entrySet()) {
            if (e.getValue() == 0) continue;
            if (reasons.length() > 0) reasons.append(", ");
            reasons.append(e.getValue()).append(' ').append(e.getKey());
        }
        if (reasons.length() > 0) b.append(": ").append(reasons);
    }

    private static long sum(Map<String, Long> m) {
        long n = 0;
        for (long v : m.values()) n += v;
        return n;
    }

    private long delta(String name) {
        return sum(deltaBy(name, null));
    }

    /** Increase since the last line of every counter with this name, summed by one tag's value. */
    private Map<String, Long> deltaBy(String name, String tag) {
        Map<String, Long> out = new TreeMap<>();
        for (Meter m : registry.find(name).meters()) {
            double now;
            if (m instanceof Counter c) now = c.count();
            else if (m instanceof FunctionCounter f) now = f.count();
            else continue;
            Double before = last.put(m.getId(), now);
            long d = (long) (now - (before == null ? 0 : before));
            String key = tag == null ? "" : String.valueOf(m.getId().getTag(tag));
            out.merge(key, d, Long::sum);
        }
        return out;
    }
}
