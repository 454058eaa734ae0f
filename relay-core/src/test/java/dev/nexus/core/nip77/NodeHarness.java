package dev.nexus.core.nip77;

import dev.nexus.core.Hex;
import java.io.BufferedReader;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A negentropy engine from npm, run by node behind the reference harness line protocol
 * ({@code interop/negentropy-harness.mjs}). Installs the folder's pinned packages with
 * {@code npm ci} the first time.
 */
final class NodeHarness implements AutoCloseable {
    /**
     * Node's output goes to a file, never to this JVM's own streams: surefire talks to its forked JVM
     * over them, and a child writing there (or setting them non-blocking) breaks the build.
     */
    private static final ProcessBuilder.Redirect NODE_LOG = ProcessBuilder.Redirect.appendTo(java.nio.file.Path.of("target", "node.log").toFile());
    static final Path FOLDER = locate();

    private final Process process;
    private final BufferedWriter in;
    private final BufferedReader out;

    /** What one {@code msg} line produced: ids reported and the next message, null once done. */
    record Reply(List<byte[]> have, List<byte[]> need, byte[] message) {}

    NodeHarness(long frameSizeLimit) throws IOException {
        ensureInstalled();
        ProcessBuilder pb = new ProcessBuilder("node", "negentropy-harness.mjs").directory(FOLDER.toFile())
                .redirectError(NODE_LOG);
        pb.environment().put("FRAMESIZELIMIT", Long.toString(frameSizeLimit));
        process = pb.start();
        in = new BufferedWriter(new OutputStreamWriter(process.getOutputStream(), StandardCharsets.US_ASCII), 1 << 16);
        out = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.US_ASCII));
    }

    void load(List<TwoSets.Item> items) throws IOException {
        for (TwoSets.Item item : items) in.write("item," + item.timestamp() + "," + Hex.encode(item.id()) + "\n");
        in.write("seal\n");
        in.flush();
    }

    byte[] initiate() throws IOException {
        in.write("initiate\n");
        in.flush();
        return read().message();
    }

    Reply message(byte[] message) throws IOException {
        in.write("msg," + Hex.encode(message) + "\n");
        in.flush();
        return read();
    }

    private Reply read() throws IOException {
        List<byte[]> have = new ArrayList<>(), need = new ArrayList<>();
        for (String line; (line = out.readLine()) != null; ) {
            if (line.startsWith("have,")) have.add(Hex.decode(line.substring(5)));
            else if (line.startsWith("need,")) need.add(Hex.decode(line.substring(5)));
            else if (line.startsWith("msg,")) return new Reply(have, need, Hex.decode(line.substring(4)));
            else if (line.equals("done")) return new Reply(have, need, null);
            else throw new IOException("unexpected line from the node harness: " + line);
        }
        throw new IOException("the node harness ended early");
    }

    @Override
    public void close() throws Exception {
        in.close();
        if (!process.waitFor(30, TimeUnit.SECONDS)) process.destroyForcibly();
    }

    private static synchronized void ensureInstalled() throws IOException {
        if (Files.isDirectory(FOLDER.resolve("node_modules/@nostr-dev-kit/sync"))) return;
        try {
            Process npm = new ProcessBuilder("npm", "ci", "--no-audit", "--no-fund").directory(FOLDER.toFile()).redirectErrorStream(true).redirectOutput(NODE_LOG).start();
            if (!npm.waitFor(10, TimeUnit.MINUTES) || npm.exitValue() != 0) throw new IOException("npm ci failed in " + FOLDER);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException(e);
        }
    }

    private static Path locate() {
        for (Path dir = Path.of("").toAbsolutePath(); dir != null; dir = dir.getParent()) {
            Path candidate = dir.resolve("interop");
            if (Files.isRegularFile(candidate.resolve("package.json"))) return candidate;
        }
        throw new IllegalStateException("interop/ not found above " + Path.of("").toAbsolutePath());
    }
}
