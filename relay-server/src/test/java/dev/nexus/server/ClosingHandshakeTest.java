package dev.nexus.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.nexus.core.Event;
import dev.nexus.core.Kinds;
import dev.nexus.core.testing.NostrKey;
import java.io.IOException;
import java.net.SocketTimeoutException;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * RFC 6455 section 7.1.1: the endpoint that sends a close frame waits for its peer's before it
 * closes the TCP connection, so a client still sending when it is refused reads the refusal
 * instead of a reset. The relay waits at most LingeringClose.LINGER_MILLIS for a client that never answers.
 */
class ClosingHandshakeTest {
    @TempDir
    Path dir;
    private static final ObjectMapper JSON = new ObjectMapper();
    private TestRelay relay;

    @BeforeEach
    void start() throws Exception {
        relay = TestRelay.start(dir, "[auth]\nmax_failed_auths = 1\n[limits]\nmax_message_bytes = 1024\n");
    }

    @AfterEach
    void stop() {
        relay.close();
    }

    private static String oversized() {
        return "[\"REQ\",\"s\",{\"search\":\"" + "x".repeat(2000) + "\"}]";
    }

    @Test
    void aRefusedAuthIsAnsweredThenTheRelayWaitsForTheClientsCloseFrameAndClosesOnIt() throws Exception {
        NostrKey key = NostrKey.generate();
        try (RawWebSocket ws = RawWebSocket.connect(relay.port())) {
            String challenge = JSON.readTree(ws.readText()).get(1).asText();
            Event good = key.sign(Kinds.AUTH, List.of(List.of("relay", relay.url()), List.of("challenge", challenge)), "");
            Event forged = new Event(good.id(), good.pubkey(), good.createdAt(), good.kind(), good.tags(), good.content(),
                    (good.sig().charAt(0) == 'a' ? "b" : "a") + good.sig().substring(1));
            // Two copies: the second one's answer may come after the close frame, and must not cut the close short.
            ws.sendText("[\"AUTH\"," + forged.json() + "]");
            ws.sendText("[\"AUTH\"," + forged.json() + "]");
            RawWebSocket.UntilClose refusal = ws.readUntilClose();
            assertEquals(1008, refusal.closeCode());
            assertTrue(refusal.texts().stream().anyMatch(t -> t.startsWith("[\"OK\",\"" + forged.id() + "\",false,")),
                    "the OK false arrives before the close: " + refusal.texts());

            // The relay has not dropped the connection: it is waiting for the client's close frame.
            ws.socket.setSoTimeout(200);
            assertThrows(SocketTimeoutException.class, () -> ws.socket.getInputStream().read());

            ws.sendClose();
            ws.socket.setSoTimeout((int) LingeringClose.LINGER_MILLIS / 2);
            assertEquals(-1, readToEnd(ws), "the relay closes as soon as the client's close frame arrives");
        }
    }

    @Test
    void anOversizedMessageIsRefusedWithANoticeAndClose1009AndTheClientIsDisconnectedAfterTheLinger() throws Exception {
        try (RawWebSocket ws = RawWebSocket.connect(relay.port())) {
            ws.readText(); // the AUTH challenge
            ws.sendText(oversized());
            RawWebSocket.UntilClose refusal = ws.readUntilClose();
            assertEquals(1009, refusal.closeCode());
            assertTrue(refusal.texts().stream().anyMatch(t -> t.startsWith("[\"NOTICE\",\"invalid:")), "a NOTICE says why: " + refusal.texts());
            ws.socket.setSoTimeout(200);
            assertThrows(SocketTimeoutException.class, () -> ws.socket.getInputStream().read(), "not reset while the client may still be reading");
            ws.socket.setSoTimeout((int) LingeringClose.LINGER_MILLIS * 3);
            assertEquals(-1, ws.socket.getInputStream().read(), "closed by the relay, not left open");
        }
    }

    @Test
    void aTextFrameThatIsNotUtf8IsRefusedWith1007AndTheSameLingeringClose() throws Exception {
        try (RawWebSocket ws = RawWebSocket.connect(relay.port())) {
            ws.readText(); // the AUTH challenge
            ws.sendTextBytes(new byte[] {'[', '"', (byte) 0xc3, (byte) 0x28, '"', ']'});
            RawWebSocket.UntilClose refusal = ws.readUntilClose();
            assertEquals(1007, refusal.closeCode());
            assertTrue(refusal.texts().stream().anyMatch(t -> t.startsWith("[\"NOTICE\",\"invalid:")), "a NOTICE says why: " + refusal.texts());
            ws.socket.setSoTimeout(200);
            assertThrows(SocketTimeoutException.class, () -> ws.socket.getInputStream().read(), "not reset while the client may still be reading");
        }
    }

    @Test
    void whatTheClientKeepsSendingAfterTheRefusalIsDiscardedNotAnswered() throws Exception {
        try (RawWebSocket ws = RawWebSocket.connect(relay.port())) {
            ws.readText(); // the AUTH challenge
            ws.sendText(oversized());
            assertEquals(1009, ws.readUntilClose().closeCode());
            for (int i = 0; i < 20; i++) ws.sendText("[\"REQ\",\"late" + i + "\",{\"limit\":1}]");
            ws.socket.setSoTimeout((int) LingeringClose.LINGER_MILLIS * 3);
            assertEquals(-1, ws.socket.getInputStream().read(), "no answer to messages sent after the close frame, then the close");
        }
    }

    /** Reads until end of stream, past a close frame the relay may echo; -1 once the stream ends. */
    private static int readToEnd(RawWebSocket ws) throws IOException {
        while (ws.socket.getInputStream().read() >= 0) {
            // the relay's echo of the client's close frame, if it sends one
        }
        return -1;
    }
}
