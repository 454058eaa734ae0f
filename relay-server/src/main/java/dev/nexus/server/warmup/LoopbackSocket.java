package dev.nexus.server.warmup;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/** A WebSocket client of the warm-up: whole text messages in, sends queued one after another (the JDK client allows one at a time). */
final class LoopbackSocket implements WebSocket.Listener {
    private final Consumer<String> onMessage;
    private final StringBuilder partial = new StringBuilder();
    private WebSocket socket;
    private CompletableFuture<WebSocket> lastSend;

    private LoopbackSocket(Consumer<String> onMessage) {
        this.onMessage = onMessage;
    }

    static LoopbackSocket open(HttpClient http, URI uri, JitWarmup.Deadline deadline, Consumer<String> onMessage) throws Exception {
        LoopbackSocket s = new LoopbackSocket(onMessage);
        s.socket = http.newWebSocketBuilder().buildAsync(uri, s).get(deadline.remainingNanos(), TimeUnit.NANOSECONDS);
        s.lastSend = CompletableFuture.completedFuture(s.socket);
        return s;
    }

    synchronized void send(String text) {
        lastSend = lastSend.thenCompose(ws -> ws.sendText(text, true));
    }

    void abort() {
        socket.abort();
    }

    @Override
    public CompletionStage<?> onText(WebSocket ws, CharSequence data, boolean last) {
        partial.append(data);
        if (last) {
            String message = partial.toString();
            partial.setLength(0);
            onMessage.accept(message);
        }
        ws.request(1);
        return null;
    }
}
