package dev.nexus.server;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.nio.file.attribute.UserPrincipal;
import java.util.List;
import java.util.Map;
import java.util.Set;
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

    @Test
    void aSharedParentWithoutTheStickyBitIsRefused() throws IOException {
        Path shared = Files.createDirectory(tmp.resolve("shared"));
        Files.setPosixFilePermissions(shared, PosixFilePermissions.fromString("rwxrwxrwx"));
        IOException e = assertThrows(IOException.class, () -> NativeLibraries.privateDirectory(shared));
        assertTrue(e.getMessage().contains("not sticky"), e.getMessage());
        Files.setAttribute(shared, "unix:mode", 01777); // as /tmp is
        assertEquals(shared.resolve("nexus-native-" + myUid()), NativeLibraries.privateDirectory(shared));
    }

    @Test
    void aCopyAKilledRelayWasWritingIsRemovedOnceItIsOld() throws IOException {
        Path dir = NativeLibraries.privateDirectory(tmp);
        Path old = Files.writeString(dir.resolve("libsecp256k1-jni-123.partial"), "cut short");
        Files.setLastModifiedTime(old, java.nio.file.attribute.FileTime.fromMillis(System.currentTimeMillis() - 120_000));
        Path beingWritten = Files.writeString(dir.resolve("libsqlitejdbc-456.partial"), "another relay is writing it now");
        Path library = Files.writeString(dir.resolve("libsqlitejdbc-0583f3ab98bb6ea5.so"), "a whole copy");
        Files.setLastModifiedTime(library, java.nio.file.attribute.FileTime.fromMillis(0));
        NativeLibraries.removePartialFiles(dir);
        assertFalse(Files.exists(old));
        assertTrue(Files.exists(beingWritten) && Files.exists(library));
    }

    @Test
    void aLibraryThatWillNotLoadFromTheDirectoryLeavesEveryLoaderAsItWas() throws IOException {
        NativeLibraries.Bundled fine = new NativeLibraries.Bundled("liblmdb", NativeLibraries.bundledForThisPlatform().get(2).resource(),
                f -> Map.of("nexus.test.first.lib", f.toString()), Set.of("nexus.test.first.lib"), false);
        // Stands for the probe failing as on a noexec mount: the kernel refuses to map it.
        NativeLibraries.Bundled refused = new NativeLibraries.Bundled("not-a-library", "native-test/not-a-library.so",
                f -> Map.of("nexus.test.second.lib", f.toString()), Set.of("nexus.test.second.lib"), true);
        try {
            assertTrue(NativeLibraries.unpackAndPoint(List.of(fine, refused), List.of(tmp)).isEmpty());
            assertNull(System.getProperty("nexus.test.first.lib"), "no loader is pointed at a directory the probe could not load from");
            assertNull(System.getProperty("nexus.test.second.lib"));
        } finally {
            System.clearProperty("nexus.test.first.lib");
            System.clearProperty("nexus.test.second.lib");
        }
    }

    @Test
    void whereTheTemporaryDirectoryCannotBeUsedTheLibrariesAreUnpackedBesideTheStore() throws IOException {
        NativeLibraries.Bundled lib = new NativeLibraries.Bundled("liblmdb", NativeLibraries.bundledForThisPlatform().get(2).resource(),
                f -> Map.of("nexus.test.lib", f.toString()), Set.of("nexus.test.lib"), true);
        Path sharedTmp = Files.createDirectory(tmp.resolve("tmp"));
        Files.setPosixFilePermissions(sharedTmp, PosixFilePermissions.fromString("rwxrwxrwx")); // and not sticky: refused
        Path data = Files.createDirectory(tmp.resolve("data"));
        try {
            Path dir = NativeLibraries.unpackAndPoint(List.of(lib), List.of(sharedTmp, data)).orElseThrow();
            assertEquals(data.resolve("nexus-native-" + myUid()), dir);
            assertTrue(System.getProperty("nexus.test.lib").startsWith(dir.toString()), "the loader is pointed at the copy beside the store");
            try (var files = Files.list(sharedTmp)) {
                assertEquals(0, files.count(), "nothing left in the refused directory");
            }
        } finally {
            System.clearProperty("nexus.test.lib");
        }
    }

    @Test
    void theStoresDirectoryIsTheParentOfItsPathAndNoneForPostgres() throws Exception {
        dev.nexus.config.NexusConfig sqlite = dev.nexus.config.NexusConfig.parse("[storage]\npath = \"" + tmp.resolve("new/nexus.db") + "\"\n");
        assertEquals(java.util.Optional.of(tmp.resolve("new")), NativeLibraries.besideTheStore(sqlite.storage()));
        assertTrue(Files.isDirectory(tmp.resolve("new")), "made, as the store would make it");
        dev.nexus.config.NexusConfig postgres = dev.nexus.config.NexusConfig.parse(
                "[storage]\nbackend = \"postgres\"\npostgres_url = \"postgresql://nexus@127.0.0.1:5432/nexus\"\n");
        assertEquals(java.util.Optional.empty(), NativeLibraries.besideTheStore(postgres.storage()));
    }

    @Test
    void anOperatorsOwnChoiceForALoaderIsLeftAlone() throws IOException {
        NativeLibraries.Bundled lib = new NativeLibraries.Bundled("liblmdb", NativeLibraries.bundledForThisPlatform().get(2).resource(),
                f -> Map.of("nexus.test.lib", f.toString()), Set.of("nexus.test.lib", "nexus.test.tmpdir"), false);
        System.setProperty("nexus.test.tmpdir", tmp.resolve("exec").toString());
        try {
            Path dir = NativeLibraries.unpackAndPoint(List.of(lib), List.of(tmp)).orElseThrow();
            assertNull(System.getProperty("nexus.test.lib"));
            try (var files = Files.list(dir)) {
                assertEquals(0, files.count(), "nothing unpacked for it");
            }
            System.clearProperty("nexus.test.tmpdir");
            NativeLibraries.unpackAndPoint(List.of(lib), List.of(tmp)).orElseThrow();
            assertTrue(System.getProperty("nexus.test.lib").startsWith(dir.toString()), "without the choice it is pointed at the directory");
        } finally {
            System.clearProperty("nexus.test.tmpdir");
            System.clearProperty("nexus.test.lib");
        }
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
