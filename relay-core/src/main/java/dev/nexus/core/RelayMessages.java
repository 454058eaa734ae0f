package dev.nexus.core;

/** Builders for relay-to-client frames. Strings from clients are escaped with the canonical escaper. */
public final class RelayMessages {
    private RelayMessages() {}

    public static String ok(String eventId, boolean accepted, String message) {
        StringBuilder sb = new StringBuilder(96 + message.length());
        sb.append("[\"OK\",");
        EventJson.appendQuoted(sb, eventId == null ? "" : eventId);
        sb.append(',').append(accepted).append(',');
        EventJson.appendQuoted(sb, message);
        return sb.append(']').toString();
    }

    public static String eose(String subscriptionId) {
        StringBuilder sb = new StringBuilder(16 + subscriptionId.length());
        sb.append("[\"EOSE\",");
        EventJson.appendQuoted(sb, subscriptionId);
        return sb.append(']').toString();
    }

    public static String closed(String subscriptionId, String message) {
        StringBuilder sb = new StringBuilder(32 + subscriptionId.length() + message.length());
        sb.append("[\"CLOSED\",");
        EventJson.appendQuoted(sb, subscriptionId);
        sb.append(',');
        EventJson.appendQuoted(sb, message);
        return sb.append(']').toString();
    }

    public static String notice(String message) {
        StringBuilder sb = new StringBuilder(16 + message.length());
        sb.append("[\"NOTICE\",");
        EventJson.appendQuoted(sb, message);
        return sb.append(']').toString();
    }

    public static String auth(String challenge) {
        StringBuilder sb = new StringBuilder(16 + challenge.length());
        sb.append("[\"AUTH\",");
        EventJson.appendQuoted(sb, challenge);
        return sb.append(']').toString();
    }

    /** The part of {@code ["EVENT",subId,event]} before the event JSON, so the event bytes can be shared. */
    public static String eventPrefix(String subscriptionId) {
        StringBuilder sb = new StringBuilder(16 + subscriptionId.length());
        sb.append("[\"EVENT\",");
        EventJson.appendQuoted(sb, subscriptionId);
        return sb.append(',').toString();
    }

    public static String event(String subscriptionId, Event event) {
        return eventPrefix(subscriptionId) + event.json() + "]";
    }
}
