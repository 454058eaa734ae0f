package dev.nexus.server.sync;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.nexus.core.Event;
import dev.nexus.server.WholeTextMessages;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One WebSocket to a peer relay (the JDK's client), used by one thread at a time: messages are
 * read in order with {@link #next}; AUTH challenges are remembered and NOTICEs logged on the way.
 * Counts the bytes of the messages each way (payload, not WebSocket framing).
 */
final class PeerConnection implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(PeerConnection.class);
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final JsonNode CLOSED = JSON.createArrayNode().add("\u0000closed");
    /** NOTICEs logged at info per connection to a peer; the rest at debug. */
    private static final int MAX_NOTICES_LOGGED = 5;

    private final String url;
    private final EventSigner signer;
    private final long timeoutMillis;
    private final WebSocket socket;
    private final BlockingQueue<JsonNode> inbox = new LinkedBlockingQueue<>();
    /** Messages read while waiting for an AUTH answer, handed out first by {@link #next}. */
    private final Deque<JsonNode> deferred = new ArrayDeque<>();
    private final AtomicLong bytesSent = new AtomicLong();
    private final AtomicLong bytesReceived = new AtomicLong();
    private int noticesLogged;
    private volatile String closeReason;
    private String challenge;
    private boolean authenticated;

    private PeerConnection(String url, EventSigner signer, long timeoutMillis, HttpClient http) throws SyncException, InterruptedException {
        this.url = url;
        this.signer = signer;
        this.timeoutMillis = timeoutMillis;
        try {
            socket = http.newWebSocketBuilder().connectTimeout(Duration.ofSeconds(10)).buildAsync(URI.create(url), new Listener())
                    .get(15, TimeUnit.SECONDS);
        } catch (ExecutionException e) {
            throw new SyncException("cannot connect to " + url + ": " + rootMessage(e), e);
        } catch (TimeoutException e) {
            throw new SyncException("cannot connect to " + url + ": timed out", e);
        } catch (IllegalArgumentException e) {
            throw new SyncException("cannot connect to " + url + ": " + e.getMessage(), e);
        }
    }

    static PeerConnection open(HttpClient http, String url, EventSigner signer, long timeoutMillis) throws SyncException, InterruptedException {
        return new PeerConnection(url, signer, timeoutMillis, http);
    }

    String url() {
        return url;
    }

    long bytesSent() {
        return bytesSent.get();
    }

    long bytesReceived() {
        return bytesReceived.get();
    }

    boolean authenticated() {
        return authenticated;
    }

    void send(String message) throws SyncException, InterruptedException {
        if (closeReason != null) throw new SyncException("the peer closed the connection: " + closeReason);
        bytesSent.addAndGet(message.getBytes(StandardCharsets.UTF_8).length);
        try {
            socket.sendText(message, true).get(timeoutMillis, TimeUnit.MILLISECONDS);
        } catch (ExecutionException e) {
            throw new SyncException("sending to " + url + " failed: " + rootMessage(e), e);
        } catch (TimeoutException e) {
            throw new SyncException("sending to " + url + " timed out", e);
        }
    }

    /** The next message (never AUTH or NOTICE); a closed connection or a silent peer is a {@link SyncException}. */
    JsonNode next() throws SyncException, InterruptedException {
        if (!deferred.isEmpty()) return deferred.poll();
        return fromWire();
    }

    private JsonNode fromWire() throws SyncException, InterruptedException {
        while (true) {
            JsonNode m = inbox.poll(timeoutMillis, TimeUnit.MILLISECONDS);
            if (m == null) throw new SyncException("the peer " + url + " sent nothing for " + timeoutMillis / 1000 + " s");
            if (m == CLOSED) {
                inbox.add(CLOSED); // every later read fails the same way
                throw new SyncException("the peer closed the connection: " + closeReason);
            }
            String verb = m.path(0).asText();
            if (verb.equals("AUTH") && m.path(1).isTextual()) {
                challenge = m.get(1).asText();
            } else if (verb.equals("NOTICE")) {
                // The peer's words, quoted and cut short: they cannot forge or flood log lines.
                String notice = dev.nexus.server.LogSafe.quote(m.path(1).asText());
                if (noticesLogged++ < MAX_NOTICES_LOGGED) log.info("NOTICE from {}: {}", url, notice);
                else log.debug("NOTICE from {}: {}", url, notice);
            } else {
                return m;
            }
        }
    }

    /**
     * NIP-42: answers the peer's challenge with a kind 22242 event signed by this side's key and
     * waits for its OK. Called when the peer refused something with {@code auth-required:}.
     */
    void authenticate() throws SyncException, InterruptedException {
        if (signer == null) {
            throw new SyncException("the peer " + url + " requires NIP-42 authentication and no key is configured (set "
                    + EventSigner.ENVIRONMENT_VARIABLE + " or [sync] secret_key_file)");
        }
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(Math.min(timeoutMillis, 10_000));
        while (challenge == null) {
            long left = deadline - System.nanoTime();
            JsonNode m = left > 0 ? inbox.poll(left, TimeUnit.NANOSECONDS) : null;
            if (m == null) throw new SyncException("the peer " + url + " requires authentication but sent no AUTH challenge");
            if (m == CLOSED) {
                inbox.add(CLOSED);
                throw new SyncException("the peer closed the connection: " + closeReason);
            }
            if (m.path(0).asText().equals("AUTH") && m.path(1).isTextual()) challenge = m.get(1).asText();
            else deferred.add(m);
        }
        Event auth = signer.authEvent(url, challenge);
        send("[\"AUTH\"," + auth.json() + "]");
        while (true) {
            JsonNode m = fromWire();
            if (m.path(0).asText().equals("OK") && m.path(1).asText().equals(auth.id())) {
                if (!m.path(2).asBoolean()) throw new SyncException("the peer " + url + " refused authentication as " + signer.pubkey() + ": " + m.path(3).asText());
                authenticated = true;
                return;
            }
            deferred.add(m);
        }
    }

    @Override
    public void close() {
        try {
            socket.sendClose(WebSocket.NORMAL_CLOSURE, "sync done").get(2, TimeUnit.SECONDS);
        } catch (Exception e) {
            // closing anyway
        }
        socket.abort();
    }

    private static String rootMessage(Throwable t) {
        while (t.getCause() != null) t = t.getCause();
        return t.getMessage() != null ? t.getMessage() : t.toString();
    }

    private final class Listener extends WholeTextMessages {
        @Override
        protected void onMessage(String text) {
            bytesReceived.addAndGet(text.getBytes(StandardCharsets.UTF_8).length);
            try {
                JsonNode m = JSON.readTree(text);
                if (m != null && m.isArray()) inbox.add(m);
                else log.debug("non-array message from {} ignored", url);
            } catch (Exception e) {
                log.debug("invalid JSON from {} ignored", url);
            }
        }

        @Override
        public CompletionStage<?> onClose(WebSocket webSocket, int statusCode, String reason) {
            closeReason = statusCode + (reason.isEmpty() ? "" : " " + reason);
            inbox.add(CLOSED);
            return null;
        }

        @Override
        public void onError(WebSocket webSocket, Throwable error) {
            closeReason = rootMessage(error);
            inbox.add(CLOSED);
        }
    }
}
