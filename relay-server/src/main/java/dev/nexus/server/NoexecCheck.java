package dev.nexus.server;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;

/**
 * Whether the kernel will map code from a directory, asked before a library loader is pointed
 * there, because a loader that fails leaves its copy behind. A file made 0700 in it is not
 * executable on a {@code noexec} mount ({@code access(X_OK)} says {@code EACCES} there, to root as
 * well): the kernel's own answer, whatever the mount table's history or encoding.
 */
final class NoexecCheck {
    private NoexecCheck() {}

    /** True when {@code dir} can hold a file and will map code from it; false when either is refused. */
    static boolean mapsCode(Path dir) {
        Path probe = null;
        try {
            probe = Files.createTempFile(dir, "nexus-exec", ".probe", PosixFilePermissions.asFileAttribute(NativeLibraries.OWNER_ONLY));
            return Files.isExecutable(probe);
        } catch (IOException | RuntimeException refused) {
            return false;
        } finally {
            if (probe != null) {
                try {
                    Files.deleteIfExists(probe);
                } catch (IOException ignored) {
                    // a probe that cannot be deleted is an empty file; nothing to do about it here
                }
            }
        }
    }
}
