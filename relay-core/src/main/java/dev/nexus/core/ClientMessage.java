package dev.nexus.core;

import java.util.List;

/** What a client may send over the WebSocket (NIP-01 EVENT/REQ/CLOSE, NIP-42 AUTH, NIP-45 COUNT, NIP-77 NEG-*). */
public sealed interface ClientMessage {
    /** {@code ["EVENT", event]}: the event is parsed and id-checked but its signature is not yet verified. */
    record Publish(Event event) implements ClientMessage {}

    /** {@code ["REQ", subscriptionId, filter...]} */
    record Subscribe(String subscriptionId, List<Filter> filters) implements ClientMessage {}

    /** {@code ["COUNT", subscriptionId, filter...]}: how many stored events match (NIP-45). */
    record Count(String subscriptionId, List<Filter> filters) implements ClientMessage {}

    /** {@code ["CLOSE", subscriptionId]} */
    record Unsubscribe(String subscriptionId) implements ClientMessage {}

    /** {@code ["NEG-OPEN", subscriptionId, filter, initialMessage]} (NIP-77); the message is still hex. */
    record NegentropyOpen(String subscriptionId, Filter filter, String messageHex) implements ClientMessage {}

    /** {@code ["NEG-MSG", subscriptionId, message]} (NIP-77); the message is still hex. */
    record NegentropyMessage(String subscriptionId, String messageHex) implements ClientMessage {}

    /** {@code ["NEG-CLOSE", subscriptionId]} (NIP-77) */
    record NegentropyClose(String subscriptionId) implements ClientMessage {}

    /** {@code ["AUTH", event]} with a kind 22242 event, id-checked, signature not yet verified. */
    record Authenticate(Event event) implements ClientMessage {}
}
