package dev.nexus.server;

import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;

/**
 * A WebSocket client written on a bare socket, for what a well-behaved client library will not
 * do: send any Host header, pipeline, and above all never read (the socket's receive buffer is
 * kept small so that unread output piles up in the relay, not in the kernel).
 */
final class RawWebSocket implements AutoCloseable {
    final Socket socket;
    private final OutputStream out;
    private final InputStream in;
    final String status;

    private RawWebSocket(Socket socket, String status) throws IOException {
        this.socket = socket;
        this.out = socket.getOutputStream();
        this.in = socket.getInputStream();
        this.status = status;
    }

    /** Opens a socket with a small receive buffer and performs the upgrade with the given Host. */
    static RawWebSocket connect(String host, int port, String hostHeader, String extraHeaders) throws IOException {
        Socket s = new Socket();
        s.setReceiveBufferSize(4096);
        s.connect(new java.net.InetSocketAddress(host, port), 5000);
        s.setSoTimeout(10000);
        OutputStream out = s.getOutputStream();
        out.write(("GET / HTTP/1.1\r\nHost: " + hostHeader + "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" + extraHeaders
                + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
        out.flush();
        InputStream in = s.getInputStream();
        StringBuilder head = new StringBuilder();
        while (!head.toString().endsWith("\r\n\r\n")) {
            int b = in.read();
            if (b < 0) break;
            head.append((char) b);
        }
        return new RawWebSocket(s, head.toString().lines().findFirst().orElse(""));
    }

    static RawWebSocket connect(int port) throws IOException {
        return connect("127.0.0.1", port, "127.0.0.1:" + port, "");
    }

    void sendText(String text) throws IOException {
        out.write(frame(text));
        out.flush();
    }

    /** Answers the relay's close frame with the client's own (masked, status 1000), as RFC 6455 section 5.5.1 asks. */
    void sendClose() throws IOException {
        byte[] mask = {1, 2, 3, 4};
        byte[] status = {0x03, (byte) 0xe8};
        out.write(new byte[] {(byte) 0x88, (byte) 0x82, mask[0], mask[1], mask[2], mask[3],
                (byte) (status[0] ^ mask[0]), (byte) (status[1] ^ mask[1])});
        out.flush();
    }

    /** Sends a text frame carrying these bytes as they are (valid UTF-8 or not). */
    void sendTextBytes(byte[] payload) throws IOException {
        out.write(frame(payload));
        out.flush();
    }

    /** One masked text frame, as a client must send it. */
    static byte[] frame(String text) {
        return frame(text.getBytes(StandardCharsets.UTF_8));
    }

    private static byte[] frame(byte[] payload) {
        byte[] mask = {1, 2, 3, 4};
        ByteArrayOutputStream f = new ByteArrayOutputStream(payload.length + 14);
        f.write(0x81);
        if (payload.length < 126) {
            f.write(0x80 | payload.length);
        } else if (payload.length < 65536) {
            f.write(0x80 | 126);
            f.write(payload.length >>> 8);
            f.write(payload.length);
        } else {
            f.write(0x80 | 127);
            for (int i = 7; i >= 0; i--) f.write((int) ((long) payload.length >>> (8 * i)));
        }
        f.write(mask, 0, 4);
        for (int i = 0; i < payload.length; i++) f.write(payload[i] ^ mask[i % 4]);
        return f.toByteArray();
    }

    /** The next text frame's payload (control frames are skipped); throws EOFException at end of stream. */
    String readText() throws IOException {
        while (true) {
            Frame f = readFrame();
            if (f.opcode() == 0x8) throw new EOFException("close frame");
            if (f.opcode() == 0x1) return new String(f.payload(), StandardCharsets.UTF_8);
        }
    }

    /** The text frames up to the relay's close frame, and that frame's status code. */
    record UntilClose(java.util.List<String> texts, int closeCode) {}

    /** Reads text frames until a close frame; throws if the stream ends (or is reset) without one. */
    UntilClose readUntilClose() throws IOException {
        java.util.List<String> texts = new java.util.ArrayList<>();
        while (true) {
            Frame f = readFrame();
            byte[] p = f.payload();
            if (f.opcode() == 0x8) return new UntilClose(texts, p.length >= 2 ? ((p[0] & 0xff) << 8) | (p[1] & 0xff) : 1005);
            if (f.opcode() == 0x1) texts.add(new String(p, StandardCharsets.UTF_8));
        }
    }

    private record Frame(int opcode, byte[] payload) {}

    /** One unmasked frame as a server sends it. */
    private Frame readFrame() throws IOException {
        int b0 = readByte();
        int b1 = readByte();
        long len = b1 & 0x7f;
        if (len == 126) len = (readByte() << 8) | readByte();
        else if (len == 127) {
            len = 0;
            for (int i = 0; i < 8; i++) len = (len << 8) | readByte();
        }
        byte[] payload = in.readNBytes((int) len);
        if (payload.length < len) throw new EOFException();
        return new Frame(b0 & 0x0f, payload);
    }

    private int readByte() throws IOException {
        int b = in.read();
        if (b < 0) throw new EOFException();
        return b;
    }

    /** Reads until end of stream or timeout; returns the bytes read. */
    long drain() {
        byte[] buf = new byte[65536];
        long total = 0;
        try {
            int n;
            while ((n = in.read(buf)) >= 0) total += n;
        } catch (IOException ignored) {
            // reset by the relay, or timed out
        }
        return total;
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }
}
