package dev.nexus.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.nexus.core.Event;
import dev.nexus.core.testing.NostrKey;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A client library nobody here wrote syncs with Nexus over NIP-77: rust-nostr's {@code Client.sync}
 * (npm {@code @rust-nostr/nostr-sdk}, its Rust negentropy compiled to WASM) in both directions,
 * driven by {@code interop/rust-nostr-sync.mjs}.
 */
class RustNostrSyncTest {
    /**
     * Node's output goes to a file, never to this JVM's own streams: surefire talks to its forked JVM
     * over them, and a child writing there (or setting them non-blocking) breaks the build.
     */
    private static final ProcessBuilder.Redirect NODE_LOG = ProcessBuilder.Redirect.appendTo(java.nio.file.Path.of("target", "node.log").toFile());
    @TempDir Path dir;

    @Test
    void rustNostrSyncFetchesWhatTheRelayHasAndUploadsWhatItLacksThenFindsNothingLeft() throws Exception {
        try (TestRelay relay = TestRelay.start(dir, "[auth]\nrequired = false\n"); RelayClient client = RelayClient.connect(relay)) {
            NostrKey alice = NostrKey.generate();
            long now = System.currentTimeMillis() / 1000;
            TreeSet<String> onRelay = new TreeSet<>();
            for (int i = 0; i < 40; i++) {
                Event e = alice.sign(1, List.of(), "relay note " + i, now - 600 + i % 5);
                assertTrue(client.publishAndWait(e).get(2).asBoolean());
                onRelay.add(e.id());
            }
            assertTrue(client.publishAndWait(alice.sign(7, List.of(), "+", now)).get(2).asBoolean()); // outside the filter

            List<JsonNode> rounds = runNode(relay.url(), 6);
            JsonNode first = rounds.get(0), second = rounds.get(1);
            assertEquals(0, first.get("failed").size(), first.toString());
            assertEquals(onRelay, strings(first.get("remote")), "what only the relay had");
            assertEquals(onRelay, strings(first.get("received")), "fetched after reconciling");
            assertEquals(6, first.get("local").size(), "its own notes, which the relay lacked");
            assertEquals(strings(first.get("local")), strings(first.get("sent")), "uploaded after reconciling");
            // the uploads went through the normal write path: they are stored and served
            TreeSet<String> uploaded = strings(first.get("sent"));
            String idsFilter = "{\"ids\":" + RelayClient.JSON.writeValueAsString(new ArrayList<>(uploaded)) + "}";
            assertEquals(uploaded, new TreeSet<>(client.queryIds("check", idsFilter)));
            // reconciling again finds both sides equal
            assertEquals(0, second.get("failed").size(), second.toString());
            assertEquals(0, second.get("local").size() + second.get("remote").size(), second.toString());
        }
    }

    private static TreeSet<String> strings(JsonNode array) {
        TreeSet<String> out = new TreeSet<>();
        array.forEach(n -> out.add(n.asText()));
        return out;
    }

    private static List<JsonNode> runNode(String url, int ownNotes) throws Exception {
        Path folder = interopFolder();
        ensureInstalled(folder);
        Process p = new ProcessBuilder("node", "rust-nostr-sync.mjs", url, Integer.toString(ownNotes))
                .directory(folder.toFile()).redirectError(NODE_LOG).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(120, TimeUnit.SECONDS), "rust-nostr sync did not finish");
        assertEquals(0, p.exitValue(), "rust-nostr sync failed: " + out);
        List<JsonNode> rounds = new ArrayList<>();
        for (String line : out.split("\n")) if (line.startsWith("{")) rounds.add(RelayClient.JSON.readTree(line));
        assertEquals(2, rounds.size(), out);
        return rounds;
    }

    static Path interopFolder() {
        for (Path d = Path.of("").toAbsolutePath(); d != null; d = d.getParent()) {
            if (Files.isRegularFile(d.resolve("interop/package.json"))) return d.resolve("interop");
        }
        throw new IllegalStateException("interop/ not found");
    }

    static synchronized void ensureInstalled(Path folder) throws IOException, InterruptedException {
        if (Files.isDirectory(folder.resolve("node_modules/@rust-nostr/nostr-sdk"))
                && Files.isDirectory(folder.resolve("node_modules/@nostr-dev-kit/sync"))
                && Files.isDirectory(folder.resolve("node_modules/fake-indexeddb"))) return;
        Process npm = new ProcessBuilder("npm", "ci", "--no-audit", "--no-fund").directory(folder.toFile()).redirectErrorStream(true).redirectOutput(NODE_LOG).start();
        if (!npm.waitFor(10, TimeUnit.MINUTES) || npm.exitValue() != 0) throw new IOException("npm ci failed in " + folder);
    }
}
