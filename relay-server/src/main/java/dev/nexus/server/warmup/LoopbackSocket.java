package dev.nexus.server.warmup;

import dev.nexus.server.WholeTextMessages;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/** A WebSocket client of the warm-up: whole text messages in, sends queued one after another (the JDK client allows one at a time). */
final class LoopbackSocket extends WholeTextMessages {
    private final Consumer<String> onMessage;
    private WebSocket socket;
    private CompletableFuture<WebSocket> lastSend;

    private LoopbackSocket(Consumer<String> onMessage) {
        this.onMessage = onMessage;
    }

    static LoopbackSocket open(HttpClient http, URI uri, JitWarmup.Deadline deadline, Consumer<String> onMessage) throws Exception {
        LoopbackSocket s = new LoopbackSocket(onMessage);
        s.socket = http.newWebSocketBuilder().buildAsync(uri, s).get(deadline.remainingNanos("WebSocket open"), TimeUnit.NANOSECONDS);
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
    protected void onMessage(String text) {
        onMessage.accept(text);
    }
}
