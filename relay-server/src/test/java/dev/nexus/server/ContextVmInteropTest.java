package dev.nexus.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.nexus.core.testing.NostrKey;
import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * ContextVM (MCP over Nostr) with its own npm SDK, {@code @contextvm/sdk}: a real MCP server and
 * client (interop/contextvm-roundtrip.mjs, run with {@code node}) talk through a real Nexus, in the
 * clear (kind 25910) and with NIP-59 gift wraps (kind 1059). The SDK cannot answer NIP-42, so with
 * auth required the operator opens those kinds ({@code [auth] open_kinds}); with auth off it just
 * works. A watcher on the relay checks which kinds really carried the conversation.
 */
class ContextVmInteropTest {
    private static final Path INTEROP = Path.of("..", "interop").toAbsolutePath().normalize();
    private static final String OPEN_KINDS = "[auth]\nopen_kinds = [25910, 1059]\n";
    @TempDir Path dir;

    @BeforeAll
    static void nodeAndTheSdkAreInstalled() throws Exception {
        assumeTrue(onPath("node"), "node is not installed: the ContextVM round trip through @contextvm/sdk cannot run here (.ci/run installs it)");
        if (!Files.isDirectory(INTEROP.resolve("node_modules/@contextvm/sdk"))) {
            Process npm = new ProcessBuilder("npm", "ci", "--no-audit", "--no-fund").directory(INTEROP.toFile())
                    .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
            assertTrue(npm.waitFor(300, TimeUnit.SECONDS) && npm.exitValue() == 0, "npm ci in " + INTEROP + " failed");
        }
    }

    private static boolean onPath(String command) {
        for (String d : System.getenv().getOrDefault("PATH", "").split(File.pathSeparator)) {
            if (Files.isExecutable(Path.of(d, command))) return true;
        }
        return false;
    }

    private record Run(int exitCode, JsonNode result) {}

    private static Run roundTrip(TestRelay relay, String mode, int timeoutSeconds) throws Exception {
        Process node = new ProcessBuilder("node", "contextvm-roundtrip.mjs", relay.url(), mode, String.valueOf(timeoutSeconds))
                .directory(INTEROP.toFile()).redirectError(ProcessBuilder.Redirect.DISCARD).start();
        String out = new String(node.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(node.waitFor(timeoutSeconds + 30L, TimeUnit.SECONDS), "node did not finish");
        String last = out.strip().lines().reduce((a, b) -> b).orElse("{}");
        return new Run(node.exitValue(), RelayClient.JSON.readTree(last));
    }

    @ParameterizedTest(name = "{0}, {1}")
    @CsvSource({"auth required with open_kinds, plain", "auth required with open_kinds, encrypted", "auth off, plain", "auth off, encrypted"})
    void anMcpClientCallsAnMcpServerThroughNexus(String setup, String mode) throws Exception {
        boolean authRequired = setup.startsWith("auth required");
        String toml = authRequired ? OPEN_KINDS : "[auth]\nrequired = false\n";
        try (TestRelay relay = TestRelay.start(dir, toml); RelayClient watcher = RelayClient.connect(relay)) {
            if (authRequired) watcher.authenticate(NostrKey.generate(), relay);
            watcher.req("watch", "{\"kinds\":[25910,1059,21059]}");
            watcher.expect("EOSE", 5000);

            Run run = roundTrip(relay, mode, 60);
            assertEquals(0, run.exitCode(), run.result().toString());
            assertTrue(run.result().get("ok").asBoolean(), run.result().toString());
            assertEquals("5", run.result().get("sum").asText());
            assertEquals("[\"add\"]", run.result().get("tools").toString());

            Set<Integer> kinds = new HashSet<>();
            for (JsonNode e : watcher.eventsFor("watch", Integer.MAX_VALUE, 1000)) kinds.add(e.get("kind").asInt());
            if (mode.equals("plain")) assertEquals(Set.of(25910), kinds, "MCP messages in the clear are kind 25910");
            else assertEquals(Set.of(1059), kinds, "encrypted MCP messages are NIP-59 gift wraps only");
        }
    }

    @Test
    void withAuthRequiredAndNoOpenKindsTheSdkCannotPublish() throws Exception {
        try (TestRelay relay = TestRelay.start(dir, ""); RelayClient watcher = RelayClient.connect(relay)) {
            watcher.authenticate(NostrKey.generate(), relay);
            watcher.req("watch", "{\"kinds\":[25910,1059]}");
            watcher.expect("EOSE", 5000);
            Run run = roundTrip(relay, "plain", 8);
            assertTrue(run.exitCode() != 0, "the SDK does not answer NIP-42, so the round trip must fail: " + run.result());
            assertFalse(run.result().get("ok").asBoolean());
            assertEquals(List.of(), watcher.eventsFor("watch", 1, 500), "nothing was accepted from the unauthenticated SDK");
        }
    }
}
