package dev.nexus.server;

import java.net.http.WebSocket;
import java.util.concurrent.CompletionStage;

/**
 * A JDK WebSocket listener that is handed whole text messages: the client delivers a message in
 * parts, one call at a time, and asks for the next only after each. Used where the relay is itself a
 * client: a NIP-77 peer (sync) and the JIT warm-up.
 */
public abstract class WholeTextMessages implements WebSocket.Listener {
    private final StringBuilder partial = new StringBuilder();

    /** One complete text message, on the client's thread. */
    protected abstract void onMessage(String text);

    @Override
    public final CompletionStage<?> onText(WebSocket webSocket, CharSequence data, boolean last) {
        partial.append(data);
        if (last) {
            String text = partial.toString();
            partial.setLength(0);
            onMessage(text);
        }
        webSocket.request(1);
        return null;
    }
}
