package dev.nexus.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.nexus.core.Hex;
import dev.nexus.core.testing.NostrKey;
import dev.nexus.server.sync.EventSigner;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * NIP-86 called the way docs/OPERATIONS.md tells operators to: interop/nip86-call.mjs, whose NIP-98
 * token nostr-tools builds (its u tag, payload hash and signature, not ours).
 */
class Nip86NostrToolsInteropTest {
    private static final ProcessBuilder.Redirect NODE_LOG = ProcessBuilder.Redirect.appendTo(Path.of("target", "node.log").toFile());
    @TempDir Path dir;

    @Test
    void nostrToolsNip98TokensAuthorizeCallsAndAStrangersAreRefused() throws Exception {
        byte[] secret = new byte[32];
        new SecureRandom().nextBytes(secret);
        String secretHex = Hex.encode(secret);
        EventSigner operator = EventSigner.fromHex(secretHex);
        String spammer = NostrKey.generate().pubkey();
        try (TestRelay relay = TestRelay.start(dir, "[server]\npubkey = \"" + operator.pubkey() + "\"\n[auth]\nrequired = false\n")) {
            String url = "http://127.0.0.1:" + relay.port() + "/";
            Call banned = run(secretHex, url, "banpubkey", "[\"" + spammer + "\",\"spam\"]");
            assertEquals(0, banned.exit(), banned.out());
            assertTrue(banned.answer().get("result").asBoolean(), banned.out());
            Call list = run(secretHex, url, "listbannedpubkeys", "[]");
            assertEquals("[{\"pubkey\":\"" + spammer + "\",\"reason\":\"spam\"}]", list.answer().get("result").toString());

            byte[] other = new byte[32];
            new SecureRandom().nextBytes(other);
            Call refused = run(Hex.encode(other), url, "unbanpubkey", "[\"" + spammer + "\"]");
            assertEquals(1, refused.exit(), refused.out());
            assertTrue(refused.answer().get("error").asText().startsWith("unauthorized"), refused.out());
        }
    }

    private record Call(int exit, String out, JsonNode answer) {}

    private static Call run(String secretHex, String url, String method, String params) throws Exception {
        Path folder = RustNostrSyncTest.interopFolder();
        RustNostrSyncTest.ensureInstalled(folder);
        ProcessBuilder pb = new ProcessBuilder("node", "nip86-call.mjs", url, method, params).directory(folder.toFile()).redirectError(NODE_LOG);
        pb.environment().put("NEXUS_ADMIN_SECRET_KEY", secretHex);
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), "node did not finish");
        return new Call(p.exitValue(), out, RelayClient.JSON.readTree(out));
    }
}
