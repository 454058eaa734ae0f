package dev.nexus.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.nexus.core.Event;
import dev.nexus.core.testing.NostrKey;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.io.TempDir;

/**
 * Disk full (a small tmpfs): EVENTs are refused with OK false "error: ...", reads keep working,
 * writes resume once space returns, and nothing acknowledged is lost.
 */
class DiskFullTest {
    @TempDir Path dir;

    private static int run(String... command) throws Exception {
        return new ProcessBuilder(command).redirectErrorStream(true).start().waitFor();
    }

    @ParameterizedTest(name = "on {0}")
    @ValueSource(strings = {"sqlite", "lmdb"})
    void whenTheDiskIsFullEventsAreRefusedReadsWorkAndWritesResumeWhenSpaceReturns(String backend) throws Exception {
        Path mount = dir.resolve("small");
        Files.createDirectories(mount);
        // Needs root (mount); the test machines run as root.
        assumeTrue(run("mount", "-t", "tmpfs", "-o", "size=6m", "tmpfs", mount.toString()) == 0, "cannot mount a tmpfs here");
        try {
            NostrKey key = NostrKey.generate();
            List<String> acknowledged = new ArrayList<>();
            try (TestRelay relay = TestRelay.start(mount, "[storage]\nbackend = \"" + backend + "\"\n[auth]\nrequired = false\n[rate_limits]\nevents_per_second = 0\n");
                 RelayClient c = RelayClient.connect(relay)) {
                Event first = key.sign(1, "before the disk fills");
                assertTrue(c.publishAndWait(first).get(2).asBoolean());
                acknowledged.add(first.id());
                Path filler = mount.resolve("filler");
                try (OutputStream out = Files.newOutputStream(filler)) {
                    byte[] chunk = new byte[16 * 1024];
                    while (true) out.write(chunk);
                } catch (IOException full) {
                    // the disk is full now
                }
                int refused = 0;
                for (int i = 0; i < 40 && refused == 0; i++) {
                    Event e = key.sign(1, List.of(), "x".repeat(20_000) + i);
                    JsonNode ok = c.publishAndWait(e);
                    if (ok.get(2).asBoolean()) acknowledged.add(e.id());
                    else {
                        assertTrue(ok.get(3).asText().startsWith("error: "), ok.toString());
                        refused++;
                    }
                }
                assertTrue(refused > 0, "with the disk full an EVENT is refused with error:");
                assertEquals(List.of(first.id()), c.queryIds("read", "{\"ids\":[\"" + first.id() + "\"]}"), "reads keep working");
                Files.delete(filler);
                Event after = key.sign(1, "space is back");
                JsonNode ok = c.publishAndWait(after);
                assertTrue(ok.get(2).asBoolean(), "writes resume when space returns: " + ok);
                acknowledged.add(after.id());
                List<String> stored = c.queryIds("all", "{\"kinds\":[1],\"limit\":100}");
                for (String id : acknowledged) assertTrue(stored.contains(id), "acknowledged event lost: " + id);
            }
        } finally {
            run("umount", "-l", mount.toString());
        }
    }
}
