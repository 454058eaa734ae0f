package dev.nexus.server;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.buffer.PooledByteBufAllocator;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every response counts against the outbound bound: a client that sends requests and never reads
 * the answers stops being read; the relay's memory (Netty's pooled direct memory, where every
 * answer is encoded) does not grow with the number of requests it sent.
 */
class OutboundBoundTest {
    private static final long MIB = 1024 * 1024;
    /** Well above what one stalled connection may hold (high-water mark + one socket read), well below what the floods below make unbounded. */
    private static final long MAX_GROWTH = 16 * MIB;
    private static final String SUB_ID = "s".repeat(64);
    @TempDir Path dir;

    private static long directMemory() {
        return PooledByteBufAllocator.DEFAULT.metric().usedDirectMemory();
    }

    /** Sends {@code copies} of {@code unit} from a background thread (it blocks once the relay stops reading). */
    private static Thread flood(OutputStream out, byte[] unit, int copies) {
        Thread t = new Thread(() -> {
            byte[] batch = new byte[unit.length * 1000];
            for (int i = 0; i < 1000; i++) System.arraycopy(unit, 0, batch, i * unit.length, unit.length);
            try {
                for (int sent = 0; sent < copies; sent += 1000) out.write(batch);
                out.flush();
            } catch (Exception ignored) {
                // the relay dropped us, or the test closed the socket
            }
        }, "flood");
        t.setDaemon(true);
        t.start();
        return t;
    }

    /** The relay's direct memory once it has stopped changing (the flood was handled or reading stopped). */
    private static long settledDirectMemory() throws InterruptedException {
        long last = -1;
        int unchanged = 0;
        for (int i = 0; i < 120 && unchanged < 4; i++) {
            Thread.sleep(500);
            long now = directMemory();
            unchanged = now == last ? unchanged + 1 : 0;
            last = now;
        }
        return last;
    }

    private long growthUnder(String toml, boolean upgrade, byte[] unit, int copies) throws Exception {
        try (TestRelay relay = TestRelay.start(dir, toml)) {
            Socket socket;
            RawWebSocket ws = null;
            if (upgrade) {
                ws = RawWebSocket.connect(relay.port());
                socket = ws.socket;
            } else {
                socket = new Socket();
                socket.setReceiveBufferSize(4096);
                socket.connect(new java.net.InetSocketAddress("127.0.0.1", relay.port()));
            }
            long before = settledDirectMemory();
            Thread t = flood(socket.getOutputStream(), unit, copies);
            long after = settledDirectMemory();
            socket.close();
            t.join(10000);
            System.out.println("direct memory growth: " + (after - before) / 1024 + " KiB");
            return after - before;
        }
    }

    @Test
    void pipelinedNip11RequestsThatAreNeverReadAreServedOneReadAtATime() throws Exception {
        byte[] get = "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: application/nostr+json\r\n\r\n".getBytes(StandardCharsets.US_ASCII);
        long growth = growthUnder("[auth]\nrequired = false\n", false, get, 200_000);
        assertTrue(growth < MAX_GROWTH, "relay direct memory grew by " + growth / MIB + " MiB for 200k unread NIP-11 answers");
    }

    @Test
    void closedRepliesToAnUnauthenticatedReqLoopThatIsNeverReadAreBounded() throws Exception {
        byte[] req = RawWebSocket.frame("[\"REQ\",\"" + SUB_ID + "\",{\"kinds\":[1]}]");
        long growth = growthUnder("", true, req, 300_000);
        assertTrue(growth < MAX_GROWTH, "relay direct memory grew by " + growth / MIB + " MiB for 300k unread CLOSED replies");
    }

    @Test
    void countAnswersThatAreNeverReadAreBounded() throws Exception {
        byte[] count = RawWebSocket.frame("[\"COUNT\",\"" + SUB_ID + "\",{\"kinds\":[1]}]");
        long growth = growthUnder("[auth]\nrequired = false\n[rate_limits]\nreqs_per_second = 0\n", true, count, 250_000);
        assertTrue(growth < MAX_GROWTH, "relay direct memory grew by " + growth / MIB + " MiB for 250k unread COUNT answers");
    }

    @Test
    void noticesForGarbageThatAreNeverReadAreBounded() throws Exception {
        byte[] junk = RawWebSocket.frame("[\"HELLO\"]");
        long growth = growthUnder("[auth]\nrequired = false\n", true, junk, 600_000);
        assertTrue(growth < MAX_GROWTH, "relay direct memory grew by " + growth / MIB + " MiB for 600k unread NOTICEs");
    }
}
