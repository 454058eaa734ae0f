package dev.nexus.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.nexus.core.Event;
import dev.nexus.core.Kinds;
import dev.nexus.core.testing.NostrKey;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Predicate;

/** A real WebSocket client (the JDK's) that records every relay message for assertions. */
final class RelayClient implements AutoCloseable {
    static final ObjectMapper JSON = new ObjectMapper();
    private static final HttpClient HTTP = HttpClient.newHttpClient();

    private final WebSocket ws;
    private final BlockingQueue<JsonNode> inbox = new LinkedBlockingQueue<>();
    /** Messages taken from the inbox while waiting for another one; searched first by later waits. */
    private final List<JsonNode> skipped = new ArrayList<>();
    final AtomicInteger pings = new AtomicInteger();
    final AtomicInteger pongs = new AtomicInteger();
    volatile boolean closed;
    /** The status code of the relay's close frame, or -1 while none arrived (or the connection failed without one). */
    volatile int closeCode = -1;
    private final String challenge;
    /** When each event id first arrived in an EVENT message (System.nanoTime()), for delivery latencies. */
    final Map<String, Long> firstArrivalNanos = new ConcurrentHashMap<>();

    private RelayClient(String url, HttpClient http) throws Exception {
        ws = http.newWebSocketBuilder().connectTimeout(Duration.ofSeconds(5)).buildAsync(URI.create(url), new WebSocket.Listener() {
            private final StringBuilder partial = new StringBuilder();

            @Override
            public CompletionStage<?> onText(WebSocket webSocket, CharSequence data, boolean last) {
                partial.append(data);
                if (last) {
                    try {
                        JsonNode m = JSON.readTree(partial.toString());
                        if (m.size() == 3 && m.get(0).asText().equals("EVENT")) firstArrivalNanos.putIfAbsent(m.get(2).get("id").asText(), System.nanoTime());
                        inbox.add(m);
                    } catch (Exception e) {
                        throw new IllegalStateException("relay sent invalid JSON: " + partial, e);
                    }
                    partial.setLength(0);
                }
                webSocket.request(1);
                return null;
            }

            @Override
            public CompletionStage<?> onPing(WebSocket webSocket, ByteBuffer message) {
                pings.incrementAndGet();
                webSocket.request(1);
                return null;
            }

            @Override
            public CompletionStage<?> onPong(WebSocket webSocket, ByteBuffer message) {
                pongs.incrementAndGet();
                webSocket.request(1);
                return null;
            }

            @Override
            public CompletionStage<?> onClose(WebSocket webSocket, int statusCode, String reason) {
                closeCode = statusCode;
                closed = true;
                return null;
            }

            @Override
            public void onError(WebSocket webSocket, Throwable error) {
                closed = true;
            }
        }).get(5, TimeUnit.SECONDS);
        JsonNode auth = next(m -> m.get(0).asText().equals("AUTH"), 5000);
        challenge = auth.get(1).asText();
    }

    static RelayClient connect(TestRelay relay) throws Exception {
        return new RelayClient(relay.url(), HTTP);
    }

    static RelayClient connect(String url) throws Exception {
        return new RelayClient(url, HTTP);
    }

    /** Connects with the given client, e.g. one that trusts a test certificate for wss://. */
    static RelayClient connect(String url, HttpClient http) throws Exception {
        return new RelayClient(url, http);
    }

    String challenge() {
        return challenge;
    }

    void send(String text) {
        ws.sendText(text, true).join();
    }

    void ping() {
        ws.sendPing(ByteBuffer.wrap(new byte[] {1, 2, 3})).join();
    }

    void sendBinary(byte[] data) {
        ws.sendBinary(ByteBuffer.wrap(data), true).join();
    }

    void publish(Event e) {
        send(NostrKey.eventMessage(e));
    }

    /** Publishes and waits for the correlated OK; returns it. */
    JsonNode publishAndWait(Event e) throws Exception {
        publish(e);
        return ok(e.id());
    }

    JsonNode ok(String eventId) throws Exception {
        return ok(eventId, 10000);
    }

    /** The OK for {@code eventId}, or null if none arrives within {@code timeoutMillis}. */
    JsonNode ok(String eventId, long timeoutMillis) throws Exception {
        return next(m -> m.get(0).asText().equals("OK") && m.get(1).asText().equals(eventId), timeoutMillis);
    }

    void req(String subId, String... filters) {
        send("[\"REQ\",\"" + subId + "\"," + String.join(",", filters) + "]");
    }

    /** Sends a REQ and returns the stored events (as event JSON objects) up to EOSE. */
    List<JsonNode> query(String subId, String... filters) throws Exception {
        req(subId, filters);
        List<JsonNode> events = new ArrayList<>();
        while (true) {
            JsonNode m = next(x -> x.size() >= 2 && x.get(1).asText().equals(subId)
                    && List.of("EVENT", "EOSE", "CLOSED").contains(x.get(0).asText()), 10000);
            String type = m.get(0).asText();
            if (type.equals("EOSE")) return events;
            if (type.equals("CLOSED")) throw new AssertionError("subscription closed: " + m);
            events.add(m.get(2));
        }
    }

    List<String> queryIds(String subId, String... filters) throws Exception {
        List<String> ids = new ArrayList<>();
        for (JsonNode e : query(subId, filters)) ids.add(e.get("id").asText());
        send("[\"CLOSE\",\"" + subId + "\"]");
        return ids;
    }

    /** Authenticates {@code key} with a correct NIP-42 event and asserts the relay accepted it. */
    void authenticate(NostrKey key, TestRelay relay) throws Exception {
        Event auth = key.sign(Kinds.AUTH, List.of(List.of("relay", relay.url()), List.of("challenge", challenge)), "");
        send("[\"AUTH\"," + auth.json() + "]");
        JsonNode ok = ok(auth.id());
        assertEquals(true, ok.get(2).asBoolean(), ok.toString());
    }

    /** The next message satisfying {@code match}, searching messages skipped earlier first. */
    JsonNode next(Predicate<JsonNode> match, long timeoutMillis) throws Exception {
        for (Iterator<JsonNode> it = skipped.iterator(); it.hasNext(); ) {
            JsonNode m = it.next();
            if (match.test(m)) {
                it.remove();
                return m;
            }
        }
        long deadline = System.currentTimeMillis() + timeoutMillis;
        while (true) {
            long left = deadline - System.currentTimeMillis();
            JsonNode m = left > 0 ? inbox.poll(left, TimeUnit.MILLISECONDS) : null;
            if (m == null) return null;
            if (match.test(m)) return m;
            skipped.add(m);
        }
    }

    JsonNode expect(String type, long timeoutMillis) throws Exception {
        JsonNode m = next(x -> x.get(0).asText().equals(type), timeoutMillis);
        assertNotNull(m, "expected a " + type + " message");
        return m;
    }

    /** Live EVENT messages for {@code subId} that arrive within {@code millis}. */
    List<JsonNode> eventsFor(String subId, int atLeast, long millis) throws Exception {
        List<JsonNode> out = new ArrayList<>();
        long deadline = System.currentTimeMillis() + millis;
        while (out.size() < atLeast) {
            long left = deadline - System.currentTimeMillis();
            if (left <= 0) break;
            JsonNode m = next(x -> x.get(0).asText().equals("EVENT") && x.get(1).asText().equals(subId), left);
            if (m == null) break;
            out.add(m.get(2));
        }
        return out;
    }

    @Override
    public void close() {
        try {
            ws.sendClose(WebSocket.NORMAL_CLOSURE, "bye").get(2, TimeUnit.SECONDS);
        } catch (Exception ignored) {
            ws.abort();
        }
    }
}
