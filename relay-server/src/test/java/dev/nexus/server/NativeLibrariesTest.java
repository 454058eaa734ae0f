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
        giveToNobody(dir);
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
    void aCopyAKilledRelayWasWritingOrLoadingIsRemovedOnceItIsOld() throws IOException {
        Path dir = NativeLibraries.privateDirectory(tmp);
        Path old = Files.writeString(dir.resolve("libsecp256k1-jni-123.partial"), "cut short");
        Files.setLastModifiedTime(old, java.nio.file.attribute.FileTime.fromMillis(System.currentTimeMillis() - 120_000));
        Path beingWritten = Files.writeString(dir.resolve("libsqlitejdbc-456.partial"), "another relay is writing it now");
        Path library = Files.writeString(dir.resolve("libsqlitejdbc-0583f3ab98bb6ea5.so"), "a whole copy");
        Files.setLastModifiedTime(library, java.nio.file.attribute.FileTime.fromMillis(0));
        Path nettyCopy = Files.writeString(dir.resolve("libnetty_transport_native_epoll_x86_648833.so"), "killed between writing and deleting it");
        Files.setLastModifiedTime(nettyCopy, java.nio.file.attribute.FileTime.fromMillis(System.currentTimeMillis() - 120_000));
        Path jffiNow = Files.writeString(dir.resolve("jffi4242.so"), "another relay is loading it now");
        NativeLibraries.removeLeftovers(dir);
        assertFalse(Files.exists(nettyCopy));
        assertTrue(Files.exists(jffiNow));
        assertFalse(Files.exists(old));
        assertTrue(Files.exists(beingWritten) && Files.exists(library));
    }

    @Test
    void aLibraryThatWillNotLoadFromTheDirectoryLeavesEveryLoaderAsItWas() throws IOException {
        NativeLibraries.Bundled fine = sqliteStandIn("nexus.test.first.lib");
        // Stands for the probe failing as on a noexec mount: the kernel refuses to map it.
        NativeLibraries.Bundled refused = new NativeLibraries.Bundled("not-a-library", "native-test/not-a-library.so",
                f -> Map.of("nexus.test.second.lib", f.toString()), Set.of("nexus.test.second.lib"), true);
        try {
            assertTrue(NativeLibraries.unpackAndPoint(List.of(fine, refused), places(tmp), LOAD).isEmpty());
            assertNull(System.getProperty("nexus.test.first.lib"), "no loader is pointed at a directory the probe could not load from");
            assertNull(System.getProperty("nexus.test.second.lib"));
        } finally {
            System.clearProperty("nexus.test.first.lib");
            System.clearProperty("nexus.test.second.lib");
        }
    }

    @Test
    void whereTheTemporaryDirectoryWillNotMapCodeTheLibrariesAreUnpackedInTheDataDirectory() throws IOException {
        try {
            Path dir = unpackWithANoexecTemporaryDirectory(sqliteStandIn("nexus.test.sqlite.lib"), probe("nexus.test.lmdb.lib"));
            assertEquals(tmp.resolve("data").resolve("nexus-native-" + myUid()), dir);
            assertTrue(System.getProperty("nexus.test.sqlite.lib").startsWith(dir.toString()), "pointed at the data directory's copy");
            assertTrue(System.getProperty("nexus.test.lmdb.lib").startsWith(dir.toString()));
            try (var files = Files.list(tmp.resolve("tmp").resolve("nexus-native-" + myUid()))) {
                assertEquals(1, files.count(), "only the probe was written where code will not map");
            }
        } finally {
            System.clearProperty("nexus.test.sqlite.lib");
            System.clearProperty("nexus.test.lmdb.lib");
        }
    }

    @Test
    void theProbeRunsEvenWhenTheOperatorChoseWhereLmdbComesFrom() throws IOException {
        NativeLibraries.Bundled lmdb = new NativeLibraries.Bundled("liblmdb", NativeLibraries.bundledForThisPlatform().get(2).resource(),
                f -> Map.of("nexus.test.lmdb.lib", f.toString()), Set.of("nexus.test.lmdb.lib", "nexus.test.lmdb.extract.dir"), true);
        System.setProperty("nexus.test.lmdb.extract.dir", tmp.resolve("operators-choice").toString());
        try {
            Path dir = unpackWithANoexecTemporaryDirectory(sqliteStandIn("nexus.test.sqlite.lib"), lmdb);
            assertTrue(dir.startsWith(tmp.resolve("data")), "the noexec directory was found out without LMDB's own copy");
            assertTrue(System.getProperty("nexus.test.sqlite.lib").startsWith(dir.toString()));
            assertNull(System.getProperty("nexus.test.lmdb.lib"), "the operator's choice for LMDB stands");
        } finally {
            System.clearProperty("nexus.test.lmdb.extract.dir");
            System.clearProperty("nexus.test.sqlite.lib");
            System.clearProperty("nexus.test.lmdb.lib");
        }
    }

    @Test
    void aParentOwnedBySomeoneElseIsRefused() throws IOException {
        Path theirs = giveToNobody(Files.createDirectory(tmp.resolve("theirs")));
        // 0755: no one else may write it, but its owner could swap our directory for theirs.
        IOException e = assertThrows(IOException.class, () -> NativeLibraries.privateDirectory(theirs));
        assertTrue(e.getMessage().contains("neither this user nor root"), e.getMessage());
    }

    @Test
    void theDataDirectoryIsTheStoresOrForPostgresTheWorkingDirectory() throws Exception {
        dev.nexus.config.NexusConfig sqlite = dev.nexus.config.NexusConfig.parse("[storage]\npath = \"" + tmp.resolve("new/nexus.db") + "\"\n");
        assertEquals(java.util.Optional.of(tmp.resolve("new")), NativeLibraries.dataDirectory(sqlite.storage()));
        assertTrue(Files.isDirectory(tmp.resolve("new")), "made, as the store would make it");
        dev.nexus.config.NexusConfig postgres = dev.nexus.config.NexusConfig.parse(
                "[storage]\nbackend = \"postgres\"\npostgres_url = \"postgresql://nexus@127.0.0.1:5432/nexus\"\n");
        assertEquals(java.util.Optional.of(Path.of("").toAbsolutePath()), NativeLibraries.dataDirectory(postgres.storage()));
    }

    @Test
    void anOperatorsOwnChoiceForALoaderIsLeftAlone() throws IOException {
        NativeLibraries.Bundled lib = new NativeLibraries.Bundled("libsqlitejdbc", NativeLibraries.bundledForThisPlatform().get(0).resource(),
                f -> Map.of("nexus.test.lib", f.toString()), Set.of("nexus.test.lib", "nexus.test.tmpdir"), false);
        NativeLibraries.Bundled lmdb = probe("nexus.test.lmdb.lib");
        System.setProperty("nexus.test.tmpdir", tmp.resolve("exec").toString());
        try {
            Path dir = NativeLibraries.unpackAndPoint(List.of(lib, lmdb), places(tmp), LOAD).orElseThrow();
            assertNull(System.getProperty("nexus.test.lib"));
            try (var files = Files.list(dir)) {
                assertEquals(List.of(Path.of(System.getProperty("nexus.test.lmdb.lib"))), files.toList(), "nothing unpacked for it");
            }
            System.clearProperty("nexus.test.tmpdir");
            NativeLibraries.unpackAndPoint(List.of(lib, lmdb), places(tmp), LOAD).orElseThrow();
            assertTrue(System.getProperty("nexus.test.lib").startsWith(dir.toString()), "without the choice it is pointed at the directory");
        } finally {
            System.clearProperty("nexus.test.tmpdir");
            System.clearProperty("nexus.test.lib");
            System.clearProperty("nexus.test.lmdb.lib");
        }
    }

    /** Unpacks with {@code tmp/tmp} as a temporary directory that will not map code and {@code tmp/data} as the data directory. */
    private Path unpackWithANoexecTemporaryDirectory(NativeLibraries.Bundled... libraries) throws IOException {
        Path noexecTmp = Files.createDirectory(tmp.resolve("tmp"));
        Path data = Files.createDirectory(tmp.resolve("data"));
        return NativeLibraries.unpackAndPoint(List.of(libraries), places(noexecTmp, data), noexecUnder(noexecTmp)).orElseThrow();
    }

    private static final java.util.function.Consumer<Path> LOAD = library -> System.load(library.toString());

    /** Loads as the kernel would with {@code dir} mounted noexec. */
    private static java.util.function.Consumer<Path> noexecUnder(Path dir) {
        return library -> {
            if (library.startsWith(dir)) throw new UnsatisfiedLinkError(library + ": " + library + ": failed to map segment from shared object");
            System.load(library.toString());
        };
    }

    private static List<java.util.function.Supplier<java.util.Optional<Path>>> places(Path... dirs) {
        return java.util.Arrays.stream(dirs).map(d -> (java.util.function.Supplier<java.util.Optional<Path>>) () -> java.util.Optional.of(d)).toList();
    }

    /** SQLite's library (never loaded here: a JNI library), pointed at through a test property. */
    private static NativeLibraries.Bundled sqliteStandIn(String property) {
        return new NativeLibraries.Bundled("libsqlitejdbc", NativeLibraries.bundledForThisPlatform().get(0).resource(),
                f -> Map.of(property, f.toString()), Set.of(property), false);
    }

    /** LMDB's plain C library, the probe, pointed at through a test property. */
    private static NativeLibraries.Bundled probe(String property) {
        return new NativeLibraries.Bundled("liblmdb", NativeLibraries.bundledForThisPlatform().get(2).resource(),
                f -> Map.of(property, f.toString()), Set.of(property), true);
    }

    /** Makes {@code dir} another user's; aborts the test where that is not possible. */
    private Path giveToNobody(Path dir) {
        try {
            UserPrincipal nobody = tmp.getFileSystem().getUserPrincipalLookupService().lookupPrincipalByName("nobody");
            Files.setOwner(dir, nobody);
        } catch (IOException notRootOrNoSuchUser) {
            Assumptions.abort("giving a directory to another user needs root and a 'nobody' user: " + notRootOrNoSuchUser);
        }
        return dir;
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
