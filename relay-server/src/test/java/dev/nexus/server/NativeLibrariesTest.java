package dev.nexus.server;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.nio.file.attribute.UserPrincipal;
import java.util.List;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The directory the bundled JNI libraries are unpacked into once per version (the killed relay's leak: LauncherIT). */
class NativeLibrariesTest {
    @TempDir Path tmp;

    @Test
    void theDirectoryIsCreatedPrivateAndFoundAgain() throws IOException {
        Path dir = NativeLibraries.privateDirectory(tmp);
        assertEquals(tmp.resolve("nexus-native-" + myUid()), dir, "one directory per user, named by uid");
        assertEquals("rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(dir)));
        assertEquals(dir, NativeLibraries.privateDirectory(tmp));
        try (var left = Files.list(tmp)) {
            assertEquals(List.of(dir), left.toList(), "nothing else left in the temporary directory");
        }
    }

    @Test
    void aDirectoryOthersCanWriteIsNotUsed() throws IOException {
        Path dir = Files.createDirectory(tmp.resolve("nexus-native-" + myUid()));
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxrwxrwx"));
        IOException e = assertThrows(IOException.class, () -> NativeLibraries.privateDirectory(tmp));
        assertTrue(e.getMessage().contains("not private"), e.getMessage());
    }

    @Test
    void aSymbolicLinkInItsPlaceIsNotFollowed() throws IOException {
        Path elsewhere = Files.createDirectory(tmp.resolve("elsewhere"), PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
        Files.createSymbolicLink(tmp.resolve("nexus-native-" + myUid()), elsewhere);
        IOException e = assertThrows(IOException.class, () -> NativeLibraries.privateDirectory(tmp));
        assertTrue(e.getMessage().contains("not a directory"), e.getMessage());
    }

    @Test
    void anotherUsersDirectoryIsNotUsed() throws IOException {
        Path dir = Files.createDirectory(tmp.resolve("nexus-native-" + myUid()), PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
        UserPrincipal nobody;
        try {
            nobody = tmp.getFileSystem().getUserPrincipalLookupService().lookupPrincipalByName("nobody");
            Files.setOwner(dir, nobody);
        } catch (IOException notRootOrNoSuchUser) {
            Assumptions.abort("giving a directory to another user needs root and a 'nobody' user: " + notRootOrNoSuchUser);
            return;
        }
        IOException e = assertThrows(IOException.class, () -> NativeLibraries.privateDirectory(tmp));
        assertTrue(e.getMessage().contains("belongs to nobody"), e.getMessage());
    }

    @Test
    void aLibraryIsWrittenOnceAndADamagedCopyIsReplacedWhole() throws IOException {
        List<NativeLibraries.Bundled> bundled = NativeLibraries.bundledForThisPlatform();
        Assumptions.assumeFalse(bundled.isEmpty(), "no bundled library for " + System.getProperty("os.name") + " " + System.getProperty("os.arch"));
        assertEquals(List.of("libsqlitejdbc", "libsecp256k1-jni", "liblmdb"), bundled.stream().map(NativeLibraries.Bundled::name).toList());
        NativeLibraries.Bundled secp = bundled.get(1);
        Path dir = NativeLibraries.privateDirectory(tmp);

        NativeLibraries.Unpacked first = NativeLibraries.unpack(secp, dir).orElseThrow();
        assertTrue(first.fresh());
        assertArrayEquals(resource(secp), Files.readAllBytes(first.path()));
        NativeLibraries.Unpacked again = NativeLibraries.unpack(secp, dir).orElseThrow();
        assertFalse(again.fresh(), "the same version is not written twice");
        assertEquals(first.path(), again.path());

        Files.write(first.path(), new byte[] {0x7f, 'E', 'L', 'F'}); // a copy cut short (a full disk, a crash before the data reached it)
        NativeLibraries.Unpacked repaired = NativeLibraries.unpack(secp, dir).orElseThrow();
        assertTrue(repaired.fresh());
        assertArrayEquals(resource(secp), Files.readAllBytes(repaired.path()));
        try (var files = Files.list(dir)) {
            assertEquals(List.of(first.path()), files.toList(), "no partial file left beside it");
        }
        assertEquals("/x/dir", secp.pointAt().apply(Path.of("/x/dir/lib.so")).get("fr.acinq.secp256k1.lib.path"));
        assertEquals("lib.so", secp.pointAt().apply(Path.of("/x/dir/lib.so")).get("fr.acinq.secp256k1.lib.name"));
    }

    private int myUid() throws IOException {
        return (Integer) Files.getAttribute(tmp, "unix:uid"); // JUnit made it, as this user
    }

    private static byte[] resource(NativeLibraries.Bundled lib) throws IOException {
        try (InputStream in = NativeLibraries.class.getClassLoader().getResourceAsStream(lib.resource())) {
            return in.readAllBytes();
        }
    }
}
