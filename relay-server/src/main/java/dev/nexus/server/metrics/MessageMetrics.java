package dev.nexus.server.metrics;

import dev.nexus.core.ClientMessage;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Client messages in by verb and relay messages out by type. The labels are read from the
 * message and folded into fixed sets, so a client cannot create a label.
 */
final class MessageMetrics {
    private static final Set<String> VERBS = Set.of("EVENT", "REQ", "CLOSE", "COUNT", "AUTH", "NEG-OPEN", "NEG-MSG", "NEG-CLOSE", "malformed");
    private static final Set<String> FRAME_TYPES = Set.of("EVENT", "OK", "EOSE", "CLOSED", "NOTICE", "AUTH", "COUNT", "NEG-MSG", "NEG-ERR");

    private final MeterRegistry registry;
    private final Map<String, Counter> messagesIn = new ConcurrentHashMap<>();
    private final Map<String, Counter> messagesOut = new ConcurrentHashMap<>();
    /** The EVENT count is bumped once per delivery: held here rather than looked up each time. */
    private final Counter eventsOut;

    MessageMetrics(MeterRegistry registry) {
        this.registry = registry;
        eventsOut = counterOut("EVENT");
    }

    void outEvents(int n) {
        eventsOut.increment(n);
    }

    void in(String verb) {
        String label = VERBS.contains(verb) ? verb : "malformed";
        messagesIn.computeIfAbsent(label, v -> Counter.builder("nexus.messages.in").tag("verb", v)
                .description("Client messages by verb (\"malformed\": not a valid message)").register(registry)).increment();
    }

    void out(String type) {
        counterOut(type).increment();
    }

    private Counter counterOut(String type) {
        return messagesOut.computeIfAbsent(type, t -> Counter.builder("nexus.messages.out").tag("type", t)
                .description("Relay messages sent, by type").register(registry));
    }

    static String verbOf(ClientMessage m) {
        if (m instanceof ClientMessage.Publish) return "EVENT";
        if (m instanceof ClientMessage.Subscribe) return "REQ";
        if (m instanceof ClientMessage.Unsubscribe) return "CLOSE";
        if (m instanceof ClientMessage.Count) return "COUNT";
        if (m instanceof ClientMessage.Authenticate) return "AUTH";
        if (m instanceof ClientMessage.NegentropyOpen) return "NEG-OPEN";
        if (m instanceof ClientMessage.NegentropyMessage) return "NEG-MSG";
        if (m instanceof ClientMessage.NegentropyClose) return "NEG-CLOSE";
        return "malformed";
    }

    /** A frame's type, read from its start ({@code ["OK",...}). */
    static String typeOf(String frame) {
        if (frame.length() < 4 || !frame.startsWith("[\"")) return "other";
        int end = frame.indexOf('"', 2);
        if (end < 0) return "other";
        String type = frame.substring(2, end);
        return FRAME_TYPES.contains(type) ? type : "other";
    }
}
