package dev.nexus.server.sync;

import dev.nexus.core.ClientMessage;
import dev.nexus.core.ClientMessageParser;
import dev.nexus.core.EventJson;
import dev.nexus.core.Filter;
import dev.nexus.core.ProtocolLimits;
import java.util.Collection;
import java.util.Map;
import java.util.Set;

/** NIP-01 filters to and from JSON, for NEG-OPEN and REQ messages sent to a peer. */
public final class FilterJson {
    // Operators may name many ids or authors; the relay's per-REQ limits are for clients.
    private static final ProtocolLimits GENEROUS = new ProtocolLimits(2000, 102400, 1, 64, 1_000_000);

    private FilterJson() {}

    /** @throws IllegalArgumentException when {@code json} is not one NIP-01 filter */
    public static Filter parse(String json) {
        try {
            ClientMessage m = new ClientMessageParser(GENEROUS).parse("[\"REQ\",\"sync\"," + json + "]");
            return ((ClientMessage.Subscribe) m).filters().get(0);
        } catch (Exception e) {
            String why = e.getMessage() != null ? e.getMessage().replaceFirst("^invalid: ", "") : e.toString();
            throw new IllegalArgumentException(why, e);
        }
    }

    public static String write(Filter f) {
        StringBuilder sb = new StringBuilder("{");
        if (f.ids() != null) strings(sb, "ids", f.ids());
        if (f.authors() != null) strings(sb, "authors", f.authors());
        if (f.kinds() != null) {
            comma(sb).append("\"kinds\":[");
            boolean first = true;
            for (int k : new java.util.TreeSet<>(f.kinds())) {
                if (!first) sb.append(',');
                sb.append(k);
                first = false;
            }
            sb.append(']');
        }
        for (Map.Entry<String, Set<String>> t : f.tags().entrySet()) strings(sb, "#" + t.getKey(), t.getValue());
        if (f.since() != null) comma(sb).append("\"since\":").append(f.since());
        if (f.until() != null) comma(sb).append("\"until\":").append(f.until());
        if (f.limit() != null) comma(sb).append("\"limit\":").append(f.limit());
        return sb.append('}').toString();
    }

    /** The same filter with another time range. */
    static Filter withTimes(Filter f, Long since, Long until) {
        return new Filter(f.ids(), f.authors(), f.kinds(), f.tags().isEmpty() ? null : new java.util.HashMap<>(f.tags()), since, until, f.limit());
    }

    private static void strings(StringBuilder sb, String key, Collection<String> values) {
        comma(sb);
        EventJson.appendQuoted(sb, key);
        sb.append(":[");
        boolean first = true;
        for (String v : values) {
            if (!first) sb.append(',');
            EventJson.appendQuoted(sb, v);
            first = false;
        }
        sb.append(']');
    }

    private static StringBuilder comma(StringBuilder sb) {
        if (sb.length() > 1) sb.append(',');
        return sb;
    }
}
