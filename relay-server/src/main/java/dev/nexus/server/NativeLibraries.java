package dev.nexus.server;

import dev.nexus.config.NexusConfig;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.nio.file.attribute.UserPrincipal;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Unpacks the JNI libraries the relay bundles (SQLite, libsecp256k1, LMDB) once per version, into a
 * directory of this user's own under {@code java.io.tmpdir} ({@code nexus-native-<uid>}), and points their loaders at those files.
 *
 * <p>Why: left to themselves, the three loaders copy their library to the temporary directory under
 * a fresh random name at every start and delete it at a clean exit. A relay that is killed (kill -9,
 * the kernel's OOM killer, a supervisor's stop timeout, a JVM crash) leaves its 3.2 MB behind, and
 * nothing ever removes it: measured, 111 such copies in one machine's {@code /tmp} after a day of
 * tests. Under the systemd unit, whose temporary directory is beside the data, a relay crashing in
 * a restart loop every five seconds would fill the data disk at about 2 GB an hour.
 *
 * <p>A library's file is named by a hash of its content, written to a temporary name and renamed
 * into place, so relays of one version share a file and a file under its final name is whole. The
 * directory is created private (0700) and used only if it still is, and is this user's: in a shared
 * {@code /tmp}, anyone could otherwise put their own code where the relay loads it from. Where the
 * temporary directory cannot be used or will not map code (read-only, {@code noexec}: there the
 * loaders' own copies fail too, and SQLite could not open at all), the same directory is made beside
 * the store instead. When no place works, the relay says so once and the loaders do as they did
 * before. An operator's own choice for a loader (its path or temporary-directory property) is left alone.
 */
public final class NativeLibraries {
    private static final Logger log = LoggerFactory.getLogger(NativeLibraries.class);
    static final Set<PosixFilePermission> OWNER_ONLY = PosixFilePermissions.fromString("rwx------");

    /**
     * One bundled library: where its loader finds it in the jar, the properties that point the loader
     * at a file instead, every property by which an operator may already have chosen for it (then it
     * is left alone), and whether it is a plain C library that may be loaded here to prove the
     * directory can map code (no JNI: loading it initialises nothing).
     */
    record Bundled(String name, String resource, Function<Path, Map<String, String>> pointAt, Set<String> operatorProperties,
            boolean loadableAsProbe) {
        boolean operatorChoseAlready() {
            return operatorProperties.stream().anyMatch(p -> System.getProperty(p) != null);
        }
    }

    private static boolean done;

    private NativeLibraries() {}

    /**
     * Prepares the libraries for this process, once, before anything loads them: in a directory of
     * the relay's own under {@code java.io.tmpdir}, or, where that cannot be used or cannot map code
     * (a read-only or {@code noexec} {@code /tmp}, as CIS-hardened hosts and {@code docker run
     * --read-only --tmpfs /tmp:noexec} have it), in the relay's data directory. Netty's epoll transport and
     * jffi (LMDB's binding) unpack theirs into the same directory. When no place works, the loaders
     * are left as they were, with one WARN line.
     *
     * @param storage where the relay keeps its data ({@link #dataDirectory}), the second place, looked at only if needed
     */
    public static void unpackOnce(NexusConfig.Storage storage) {
        unpackOnce(() -> dataDirectory(storage));
    }

    private static synchronized void unpackOnce(Supplier<Optional<Path>> secondPlace) {
        if (done) return;
        done = true;
        List<Bundled> libraries = bundledForThisPlatform();
        if (libraries.isEmpty()) return;
        Supplier<Optional<Path>> tmp = () -> Optional.of(Path.of(System.getProperty("java.io.tmpdir")));
        unpackAndPoint(libraries, List.of(tmp, secondPlace), NativeLibraries::load).ifPresent(dir -> {
            // Netty and jffi unpack their libraries under fresh names and delete them once loaded;
            // pointed here, they load where code is known to map (jffi, pointed anywhere, would
            // no longer try the working directory when that fails).
            if (System.getProperty("io.netty.native.workdir") == null) System.setProperty("io.netty.native.workdir", dir.toString());
            if (System.getProperty("jffi.extract.dir") == null) System.setProperty("jffi.extract.dir", dir.toString());
        });
    }

    /**
     * Where the relay keeps its data: the directory of a file-based store ({@code [storage] path}'s
     * parent, created if missing, as the store would create it), or for PostgreSQL the working
     * directory (the container image's {@code /data}).
     */
    public static Optional<Path> dataDirectory(NexusConfig.Storage storage) {
        try {
            Path dir = storage.backend() == NexusConfig.Backend.POSTGRES ? Path.of("").toAbsolutePath()
                    : Path.of(storage.path()).toAbsolutePath().getParent();
            if (dir == null) return Optional.empty();
            Files.createDirectories(dir);
            return Optional.of(dir);
        } catch (IOException | RuntimeException e) {
            return Optional.empty(); // the store's own open says why
        }
    }

    private static void load(Path library) {
        System.load(library.toString());
    }

    /**
     * Tries each place in turn; returns the directory the loaders were pointed at, or empty when they
     * were left as they were. {@code load} loads the probe library (tests stand in for a mount).
     */
    static Optional<Path> unpackAndPoint(List<Bundled> libraries, List<Supplier<Optional<Path>>> places, Consumer<Path> load) {
        List<String> refusals = new ArrayList<>();
        Path first = null;
        for (Supplier<Optional<Path>> candidate : places) {
            Optional<Path> place = candidate.get();
            if (place.isEmpty()) continue;
            if (first == null) first = place.get();
            Placed placed;
            try {
                placed = unpackInto(libraries, place.get(), load);
            } catch (IOException | RuntimeException | UnsatisfiedLinkError e) {
                refusals.add(place.get() + ": " + e.getMessage());
                continue;
            }
            placed.files().forEach((lib, file) -> lib.pointAt().apply(file).forEach(System::setProperty));
            if (!refusals.isEmpty()) {
                log.info("native libraries load from {}: {} ({})", placed.dir(), placed.unpacked().isEmpty() ? "unpacked there before"
                        : "unpacked " + String.join(", ", placed.unpacked()), "not usable: " + String.join("; ", refusals));
            } else if (!placed.unpacked().isEmpty()) {
                log.info("native libraries unpacked into {} ({}); relays of this version load them from there", placed.dir(), String.join(", ", placed.unpacked()));
            }
            return Optional.of(placed.dir());
        }
        log.warn("native libraries not unpacked into a directory of the relay's own ({}): each loader unpacks its own copy into {}, which a "
                + "killed relay leaves behind, and where that directory cannot map code SQLite cannot open and signatures are checked in Java",
                String.join("; ", refusals), first);
        return Optional.empty();
    }

    /** What was unpacked where: the directory, each library's file the loaders are to use, and the names written now. */
    private record Placed(Path dir, Map<Bundled, Path> files, List<String> unpacked) {}

    private static Placed unpackInto(List<Bundled> libraries, Path place, Consumer<Path> load) throws IOException {
        Path dir = privateDirectory(place);
        removeLeftovers(dir);
        List<String> unpacked = new ArrayList<>();
        Map<Bundled, Path> files = new java.util.LinkedHashMap<>();
        // First the probe: a directory the kernel will not map code from (noexec) must not keep the
        // loaders from falling back to copies of their own, and should not get the other libraries
        // written into it. A library without JNI proves it, having nothing to initialise; never a JNI
        // one: a second copy of a JNI library already loaded (in a JVM that embeds the relay) would
        // be linked over the first. Unpacked and loaded even when the operator chose LMDB's own path.
        Bundled probe = libraries.stream().filter(Bundled::loadableAsProbe).findFirst()
                .orElseThrow(() -> new IOException("no library to prove " + dir + " can map code"));
        Unpacked probed = unpack(probe, dir).orElseThrow(() -> new IOException(probe.resource() + " is missing from the jar"));
        if (probed.fresh()) unpacked.add(probed.path().getFileName().toString());
        try {
            load.accept(probed.path());
        } catch (UnsatisfiedLinkError e) {
            throw new IOException("a library will not load from " + dir + " (" + String.valueOf(e.getMessage()).replace(probed.path() + ": ", "") + ")", e);
        }
        if (!probe.operatorChoseAlready()) files.put(probe, probed.path());
        for (Bundled lib : libraries) {
            if (lib == probe || lib.operatorChoseAlready()) continue;
            Optional<Unpacked> file = unpack(lib, dir);
            if (file.isEmpty()) continue;
            files.put(lib, file.get().path());
            if (file.get().fresh()) unpacked.add(file.get().path().getFileName().toString());
        }
        return new Placed(dir, files, unpacked);
    }

    /** The libraries whose jars are on the class path and have a build for this machine. */
    static List<Bundled> bundledForThisPlatform() {
        List<Bundled> out = new ArrayList<>();
        String os = System.getProperty("os.name", "").toLowerCase(Locale.ROOT);
        if (!os.contains("linux")) return out; // the others are not served machines; their loaders stay as they are
        String arch = switch (System.getProperty("os.arch", "")) {
            case "amd64", "x86_64" -> "x86_64";
            case "aarch64", "arm64" -> "aarch64";
            default -> "";
        };
        if (arch.isEmpty()) return out;
        ClassLoader cl = NativeLibraries.class.getClassLoader();
        String sqlite = sqliteResource();
        if (sqlite != null && cl.getResource(sqlite) != null) {
            out.add(new Bundled("libsqlitejdbc", sqlite, f -> Map.of(
                    "org.sqlite.lib.path", f.getParent().toString(), "org.sqlite.lib.name", f.getFileName().toString()),
                    Set.of("org.sqlite.lib.path", "org.sqlite.lib.name", "org.sqlite.tmpdir"), false));
        }
        String secp = "fr/acinq/secp256k1/jni/native/linux-" + arch + "/libsecp256k1-jni.so";
        if (cl.getResource(secp) != null) {
            out.add(new Bundled("libsecp256k1-jni", secp, f -> Map.of(
                    "fr.acinq.secp256k1.lib.path", f.getParent().toString(), "fr.acinq.secp256k1.lib.name", f.getFileName().toString()),
                    Set.of("fr.acinq.secp256k1.lib.path", "fr.acinq.secp256k1.lib.name", "fr.acinq.secp256k1.tmpdir"), false));
        }
        String lmdb = "org/lmdbjava/" + arch + "-linux-gnu.so";
        if (cl.getResource(lmdb) != null) {
            // Plain C (lmdbjava reaches it through jnr-ffi): the probe that the directory can map code.
            out.add(new Bundled("liblmdb", lmdb, f -> Map.of("lmdbjava.native.lib", f.toString()),
                    Set.of("lmdbjava.native.lib", "lmdbjava.extract.dir", "lmdbjava.embedded.lib"), true));
        }
        return out;
    }

    /** sqlite-jdbc's own answer for this machine (it tells glibc from musl, for one). */
    private static String sqliteResource() {
        try {
            String folder = org.sqlite.util.LibraryLoaderUtil.getNativeLibResourcePath();
            String name = org.sqlite.util.LibraryLoaderUtil.getNativeLibName();
            return (folder.startsWith("/") ? folder.substring(1) : folder) + "/" + name;
        } catch (LinkageError notThere) {
            return null;
        }
    }

    /** {@code <tmp>/nexus-native-<uid>}, created 0700; refused unless it is a directory of this user's that no one else can write. */
    static Path privateDirectory(Path tmp) throws IOException {
        // Who this process is, as the file system sees it: user.name is '?' for a systemd DynamicUser
        // or a container's uid without a passwd entry.
        Path probe = Files.createTempFile(tmp, "nexus-owner", ".probe");
        UserPrincipal me;
        int uid;
        try {
            me = Files.getOwner(probe, LinkOption.NOFOLLOW_LINKS);
            uid = (Integer) Files.getAttribute(probe, "unix:uid", LinkOption.NOFOLLOW_LINKS);
        } finally {
            Files.deleteIfExists(probe);
        }
        // Whoever may rename entries of the parent could swap the directory after these checks: a
        // shared parent is fine only with the sticky bit (as /tmp has), which keeps others' hands off ours.
        int parentMode = (Integer) Files.getAttribute(tmp, "unix:mode");
        if ((parentMode & 0022) != 0 && (parentMode & 01000) == 0) {
            throw new IOException(tmp + " is writable by others and not sticky");
        }
        // Nor may the parent's owner be someone else (a store kept in another user's directory): as
        // its owner, they could rename our directory away and put theirs in its place.
        int parentUid = (Integer) Files.getAttribute(tmp, "unix:uid");
        if (parentUid != uid && parentUid != 0) throw new IOException(tmp + " belongs to uid " + parentUid + ", neither this user nor root");
        Path dir = tmp.resolve("nexus-native-" + uid);
        try {
            Files.createDirectory(dir, PosixFilePermissions.asFileAttribute(OWNER_ONLY));
        } catch (FileAlreadyExistsException exists) {
            // checked below, as a directory someone else may have made
        }
        if (!Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS)) throw new IOException(dir + " is not a directory");
        UserPrincipal owner = Files.getOwner(dir, LinkOption.NOFOLLOW_LINKS);
        if (!owner.equals(me)) throw new IOException(dir + " belongs to " + owner.getName() + ", not to " + me.getName());
        if (!Files.getPosixFilePermissions(dir, LinkOption.NOFOLLOW_LINKS).equals(OWNER_ONLY)) {
            throw new IOException(dir + " is not private (mode 0700)");
        }
        return dir;
    }

    /**
     * What a killed relay can leave: copies it was writing (never renamed into place), and Netty's
     * and jffi's libraries, which they delete once loaded. Only those untouched for a minute: another
     * relay may be writing or loading one right now.
     */
    static void removeLeftovers(Path dir) throws IOException {
        long cutoff = System.currentTimeMillis() - 60_000;
        try (var files = Files.list(dir)) {
            for (Path f : files.filter(NativeLibraries::leftBehind).toList()) {
                if (Files.getLastModifiedTime(f, LinkOption.NOFOLLOW_LINKS).toMillis() < cutoff) Files.deleteIfExists(f);
            }
        }
    }

    private static boolean leftBehind(Path file) {
        String name = file.getFileName().toString();
        return name.endsWith(".partial") || (name.endsWith(".so") && (name.startsWith("libnetty_") || name.startsWith("jffi")));
    }

    record Unpacked(Path path, boolean fresh) {}

    /** The library's file in {@code dir}, written now if no whole copy of this content is there yet. */
    static Optional<Unpacked> unpack(Bundled lib, Path dir) throws IOException {
        // Streamed, never held whole: read into arrays, the 3.2 MB of libraries stayed in a fresh
        // relay's RSS (+7 MiB measured in three starts each).
        Digest resource;
        try (InputStream in = NativeLibraries.class.getClassLoader().getResourceAsStream(lib.resource())) {
            if (in == null) return Optional.empty();
            resource = Digest.of(in);
        }
        Path file = dir.resolve(lib.name() + "-" + HexFormat.of().formatHex(resource.sha256(), 0, 8) + ".so");
        if (Files.isRegularFile(file, LinkOption.NOFOLLOW_LINKS) && Files.size(file) == resource.length()) {
            try (InputStream in = Files.newInputStream(file, LinkOption.NOFOLLOW_LINKS)) {
                if (MessageDigest.isEqual(Digest.of(in).sha256(), resource.sha256())) return Optional.of(new Unpacked(file, false));
            }
        }
        Path partial = Files.createTempFile(dir, lib.name() + "-", ".partial");
        try {
            try (InputStream in = NativeLibraries.class.getClassLoader().getResourceAsStream(lib.resource())) {
                if (in == null) return Optional.empty();
                Files.copy(in, partial, StandardCopyOption.REPLACE_EXISTING);
            }
            Files.setPosixFilePermissions(partial, OWNER_ONLY);
            Files.move(partial, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } finally {
            Files.deleteIfExists(partial);
        }
        return Optional.of(new Unpacked(file, true));
    }

    /** A stream's length and SHA-256, read through a small buffer. */
    private record Digest(long length, byte[] sha256) {
        static Digest of(InputStream in) throws IOException {
            MessageDigest sha;
            try {
                sha = MessageDigest.getInstance("SHA-256");
            } catch (NoSuchAlgorithmException e) {
                throw new IllegalStateException(e);
            }
            byte[] buffer = new byte[16384];
            long length = 0;
            for (int n; (n = in.read(buffer)) > 0; length += n) sha.update(buffer, 0, n);
            return new Digest(length, sha.digest());
        }
    }

}
