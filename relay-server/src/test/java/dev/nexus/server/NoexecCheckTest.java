package dev.nexus.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Whether the kernel maps code from a directory, asked of the kernel. */
class NoexecCheckTest {
    @TempDir Path dir;

    @Test
    void anOrdinaryDirectoryMapsCodeAndTheProbeIsGone() throws IOException {
        assertTrue(NoexecCheck.mapsCode(dir));
        try (var left = Files.list(dir)) {
            assertEquals(List.of(), left.toList());
        }
    }

    @Test
    void aDirectoryThatCannotHoldAFileIsNoPlaceForALibrary() {
        assertFalse(NoexecCheck.mapsCode(dir.resolve("not-there")));
    }

    @Test
    void aNoexecMountDoesNotMapCode() throws Exception {
        Path mountPoint = Files.createDirectory(dir.resolve("noexec"));
        Process mount = new ProcessBuilder("mount", "-t", "tmpfs", "-o", "noexec,size=1m", "tmpfs", mountPoint.toString()).redirectErrorStream(true).start();
        String output = new String(mount.getInputStream().readAllBytes());
        Assumptions.assumeTrue(mount.waitFor() == 0, "mounting a tmpfs needs root and CAP_SYS_ADMIN: " + output);
        try {
            assertFalse(NoexecCheck.mapsCode(mountPoint));
            try (var left = Files.list(mountPoint)) {
                assertEquals(List.of(), left.toList(), "the probe is deleted there too");
            }
        } finally {
            new ProcessBuilder("umount", mountPoint.toString()).start().waitFor();
        }
    }
}
