package dev.nexus.core;

/** Builders for relay-to-client frames. Strings from clients are escaped with the canonical escaper. */
public final class RelayMessages {
    private RelayMessages() {}

    public static String ok(String eventId, boolean accepted, String message) {
        StringBuilder sb = open("OK", eventId == null ? "" : eventId, 16 + message.length());
        sb.append(',').append(accepted).append(',');
        EventJson.appendQuoted(sb, message);
        return sb.append(']').toString();
    }

    public static String eose(String subscriptionId) {
        return open("EOSE", subscriptionId, 0).append(']').toString();
    }

    public static String closed(String subscriptionId, String message) {
        StringBuilder sb = open("CLOSED", subscriptionId, 8 + message.length()).append(',');
        EventJson.appendQuoted(sb, message);
        return sb.append(']').toString();
    }

    /** NIP-45: {@code ["COUNT",subId,{"count":n}]}. */
    public static String count(String subscriptionId, long count) {
        return open("COUNT", subscriptionId, 32).append(",{\"count\":").append(count).append("}]").toString();
    }

    /** NIP-77: {@code ["NEG-MSG",subId,hexMessage]}. */
    public static String negentropyMessage(String subscriptionId, String hexMessage) {
        StringBuilder sb = open("NEG-MSG", subscriptionId, 4 + hexMessage.length()).append(",\"");
        return sb.append(hexMessage).append("\"]").toString();
    }

    /** NIP-77: {@code ["NEG-ERR",subId,reason]}; the subscription is closed after it. */
    public static String negentropyError(String subscriptionId, String reason) {
        StringBuilder sb = open("NEG-ERR", subscriptionId, 8 + reason.length()).append(',');
        EventJson.appendQuoted(sb, reason);
        return sb.append(']').toString();
    }

    public static String notice(String message) {
        return open("NOTICE", message, 0).append(']').toString();
    }

    public static String auth(String challenge) {
        return open("AUTH", challenge, 0).append(']').toString();
    }

    /** The part of {@code ["EVENT",subId,event]} before the event JSON, so the event bytes can be shared. */
    public static String eventPrefix(String subscriptionId) {
        return open("EVENT", subscriptionId, 0).append(',').toString();
    }

    public static String event(String subscriptionId, Event event) {
        return eventPrefix(subscriptionId) + event.json() + "]";
    }

    /** {@code ["VERB","first"} with room for {@code more} characters after it. */
    private static StringBuilder open(String verb, String first, int more) {
        StringBuilder sb = new StringBuilder(16 + verb.length() + first.length() + more);
        sb.append("[\"").append(verb).append("\",");
        EventJson.appendQuoted(sb, first);
        return sb;
    }
}
