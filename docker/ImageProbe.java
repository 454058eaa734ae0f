import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.nexus.core.EventJson;
import dev.nexus.core.Hex;
import fr.acinq.secp256k1.Secp256k1;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * A Nostr client for docker/test-image.sh, run from source with the relay's jar on the class path
 * (the JDK's WebSocket client, the jar's libsecp256k1 for signing):
 * <pre>
 *   java -cp nexus.jar docker/ImageProbe.java publish ws://127.0.0.1:PORT   # prints the stored event's id
 *   java -cp nexus.jar docker/ImageProbe.java read ws://127.0.0.1:PORT ID   # exit 0 if the relay serves it
 * </pre>
 * Both answer the relay's NIP-42 challenge first (the container runs with authentication required).
 * Exit codes: 0 success, 1 the relay answered wrongly or not in time, 2 usage.
 */
public final class ImageProbe {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final SecureRandom RANDOM = new SecureRandom();
    private static final Secp256k1 SECP = Secp256k1.Companion.get();
    private static final long TIMEOUT_SECONDS = 20;

    private final byte[] secret = new byte[32];
    private final String pubkey;
    private final LinkedBlockingQueue<JsonNode> inbox = new LinkedBlockingQueue<>();
    private final WebSocket socket;

    private ImageProbe(String url) throws Exception {
        RANDOM.nextBytes(secret);
        byte[] uncompressed = SECP.pubkeyCreate(secret);
        pubkey = Hex.encode(java.util.Arrays.copyOfRange(uncompressed, 1, 33));
        socket = HttpClient.newHttpClient().newWebSocketBuilder()
                .connectTimeout(Duration.ofSeconds(TIMEOUT_SECONDS))
                .buildAsync(URI.create(url), new WebSocket.Listener() {
                    private final StringBuilder partial = new StringBuilder();

                    @Override
                    public CompletionStage<?> onText(WebSocket ws, CharSequence data, boolean last) {
                        partial.append(data);
                        if (last) {
                            try {
                                inbox.add(JSON.readTree(partial.toString()));
                            } catch (Exception e) {
                                System.err.println("probe: unparseable frame from relay: " + partial);
                            }
                            partial.setLength(0);
                        }
                        ws.request(1);
                        return null;
                    }
                }).get(TIMEOUT_SECONDS, TimeUnit.SECONDS);
        authenticate(url);
    }

    public static void main(String[] args) throws Exception {
        if (args.length < 2 || !(args[0].equals("publish") && args.length == 2 || args[0].equals("read") && args.length == 3)) {
            System.err.println("usage: ImageProbe publish URL | ImageProbe read URL EVENT_ID");
            System.exit(2);
        }
        try {
            ImageProbe probe = new ImageProbe(args[1]);
            if (args[0].equals("publish")) {
                String id = probe.publish("nexus image probe " + System.currentTimeMillis());
                probe.expectServed(id);
                System.out.println(id);
            } else {
                probe.expectServed(args[2]);
            }
            probe.socket.sendClose(WebSocket.NORMAL_CLOSURE, "bye").get(TIMEOUT_SECONDS, TimeUnit.SECONDS);
            System.exit(0);
        } catch (ProbeFailure e) {
            System.err.println("probe: " + e.getMessage());
            System.exit(1);
        } catch (Exception e) {
            System.err.println("probe: cannot talk to the relay at " + args[1] + ": " + e);
            System.exit(1);
        }
    }

    private void authenticate(String url) throws Exception {
        JsonNode challenge = next("an AUTH challenge");
        if (!challenge.path(0).asText().equals("AUTH")) throw new ProbeFailure("expected an AUTH challenge, got " + challenge);
        String auth = sign(22242, List.of(List.of("relay", url), List.of("challenge", challenge.path(1).asText())), "");
        send("[\"AUTH\"," + auth + "]");
        expectOk(JSON.readTree(auth).path("id").asText(), "AUTH");
    }

    private String publish(String content) throws Exception {
        String event = sign(1, List.of(), content);
        String id = JSON.readTree(event).path("id").asText();
        send("[\"EVENT\"," + event + "]");
        expectOk(id, "EVENT");
        return id;
    }

    private void expectServed(String id) throws Exception {
        send("[\"REQ\",\"probe\",{\"ids\":[\"" + id + "\"]}]");
        JsonNode first = next("the stored event");
        if (!first.path(0).asText().equals("EVENT") || !first.path(2).path("id").asText().equals(id)) {
            throw new ProbeFailure("REQ for " + id + " did not return it; got " + first);
        }
        JsonNode eose = next("EOSE");
        if (!eose.path(0).asText().equals("EOSE")) throw new ProbeFailure("expected EOSE, got " + eose);
    }

    private void expectOk(String id, String what) throws Exception {
        JsonNode ok = next("OK for " + what);
        if (!ok.path(0).asText().equals("OK") || !ok.path(1).asText().equals(id) || !ok.path(2).asBoolean()) {
            throw new ProbeFailure(what + " was not accepted: " + ok);
        }
    }

    private String sign(int kind, List<List<String>> tags, String content) {
        long createdAt = System.currentTimeMillis() / 1000;
        String id = EventJson.computeId(pubkey, createdAt, kind, tags, content);
        byte[] aux = new byte[32];
        RANDOM.nextBytes(aux);
        String sig = Hex.encode(SECP.signSchnorr(Hex.decode(id), secret, aux));
        return EventJson.write(new dev.nexus.core.Event(id, pubkey, createdAt, kind, tags, content, sig));
    }

    private void send(String text) throws Exception {
        socket.sendText(text, true).get(TIMEOUT_SECONDS, TimeUnit.SECONDS);
    }

    private JsonNode next(String what) throws Exception {
        JsonNode message = inbox.poll(TIMEOUT_SECONDS, TimeUnit.SECONDS);
        if (message == null) throw new ProbeFailure("no " + what + " within " + TIMEOUT_SECONDS + " s");
        return message;
    }

    private static final class ProbeFailure extends Exception {
        ProbeFailure(String message) {
            super(message);
        }
    }
}
