package dev.nexus.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import dev.nexus.core.Event;
import dev.nexus.core.testing.NostrKey;
import org.junit.jupiter.api.io.TempDir;

/** The packaged jar, started exactly as README tells operators to: {@code java -jar nexus.jar --config nexus.toml}. */
class LauncherIT {
    private static final Pattern LISTENING = Pattern.compile("listening on 127\\.0\\.0\\.1:(\\d+)");
    private static final long WAIT_S = 90; // a shared 2-core machine: generous, never a speed assertion

    @TempDir Path dir;
    private final List<Process> started = new ArrayList<>();
    // A file, not a pipe: when the launcher exits, the JDK closes its end of a pipe, and the relay
    // JVM's last lines (written after the launcher started waiting for it) would be lost.
    private Path output;

    @AfterEach
    void killLeftovers() {
        for (Process p : started) {
            p.descendants().forEach(ProcessHandle::destroyForcibly);
            p.destroyForcibly();
        }
    }

    private String log() throws IOException {
        return Files.readString(output, StandardCharsets.UTF_8);
    }

    private Process startJar(Map<String, String> env, String bind) throws IOException {
        return startJar(env, bind, "sqlite");
    }

    private Process startJar(Map<String, String> env, String bind, String backend) throws IOException {
        return startJar(env, bind, backend, Path.of(System.getProperty("java.home"), "bin", "java").toString());
    }

    private Process startJar(Map<String, String> env, String bind, String backend, String java) throws IOException {
        return startJar(env, bind, backend, java, List.of());
    }

    private Process startJar(Map<String, String> env, String bind, String backend, String java, List<String> jvmOptions) throws IOException {
        Path cfg = dir.resolve("nexus.toml");
        Files.writeString(cfg, "[server]\nbind = \"" + bind + "\"\n[storage]\nbackend = \"" + backend + "\"\npath = \"" + dir.resolve("nexus.db")
                + "\"\n[auth]\nrequired = false\n");
        output = dir.resolve("out.log");
        List<String> command = new ArrayList<>(List.of(java));
        command.addAll(jvmOptions);
        command.addAll(List.of("-jar", System.getProperty("nexus.jar"), "--config", cfg.toString()));
        ProcessBuilder pb = new ProcessBuilder(command)
                .redirectErrorStream(true).redirectOutput(output.toFile());
        pb.environment().remove(Launcher.NO_RELAUNCH_ENV);
        pb.environment().remove("JAVA_TOOL_OPTIONS");
        pb.environment().putAll(env);
        Process p = pb.start();
        started.add(p);
        return p;
    }

    private int awaitListeningPort(Process p) throws Exception {
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(WAIT_S);
        while (System.nanoTime() < end) {
            Matcher m = LISTENING.matcher(log());
            if (m.find()) return Integer.parseInt(m.group(1));
            if (!p.isAlive()) fail("the jar exited with " + p.exitValue() + " before listening:\n" + log());
            Thread.sleep(100);
        }
        fail("the relay did not start listening:\n" + log());
        return -1;
    }

    private static int awaitExit(Process p) throws InterruptedException {
        assertTrue(p.waitFor(WAIT_S, TimeUnit.SECONDS), "process still running");
        return p.exitValue();
    }

    @Test
    void thePlainJarCommandBecomesTheRelayJvmWithTheRelaysOptionsAndSigtermStopsItCleanly() throws Exception {
        Process jar = startJar(Map.of(), "127.0.0.1:0");
        int port = awaitListeningPort(jar);

        assertEquals(0, relayJvmsUnder(jar).size(), "one JVM: the launcher re-executed itself as the relay");
        List<String> relayArgs = List.of(jar.info().arguments().orElseThrow());
        assertTrue(relayArgs.stream().anyMatch(a -> a.startsWith("-Xmx")), relayArgs.toString());
        assertTrue(relayArgs.contains("-XX:+UseSerialGC"), relayArgs.toString());
        assertTrue(relayArgs.contains("-D" + Launcher.LAUNCHED_PROPERTY + "=" + jar.pid()), relayArgs.toString());
        assertTrue(log().contains("launcher re-executed this process (pid " + jar.pid() + ") as a JVM with: -Xmx"), log());
        assertEquals(1, descriptorsOn(jar.pid(), Path.of(System.getProperty("nexus.jar"))),
                "the launcher's own descriptor on the jar did not survive the exec");
        String startLog = log();
        int warmedUp = startLog.indexOf("JIT warm-up: ");
        assertTrue(warmedUp >= 0 && warmedUp < startLog.indexOf(" listening on "), "the JIT warm-up runs before the port opens:\n" + startLog);
        assertEquals(1, startLog.split(" listening on ", -1).length - 1, "the throwaway relay's own start is not logged:\n" + startLog);
        assertFalse(startLog.contains("as a child"), "no fallback:\n" + startLog);
        assertServesNip11(port);

        jar.destroy(); // SIGTERM, as a supervisor sends it: it reaches the relay itself
        assertEquals(0, awaitExit(jar), "a clean stop on SIGTERM exits 0");
        assertTrue(log().contains("shutting down"), "the relay shut down cleanly:\n" + log());
    }

    @Test
    void asAChildTheRelayJvmGetsTheSameOptionsAndSigtermToTheLauncherStopsBoth() throws Exception {
        Process launcher = startJar(Map.of(Launcher.CHILD_ENV, "1"), "127.0.0.1:0");
        int port = awaitListeningPort(launcher);

        List<ProcessHandle> children = relayJvmsUnder(launcher);
        assertEquals(1, children.size(), "one relay JVM under the launcher: " + children);
        ProcessHandle relay = children.get(0);
        List<String> relayArgs = List.of(relay.info().arguments().orElseThrow());
        assertTrue(relayArgs.stream().anyMatch(a -> a.startsWith("-Xmx")), relayArgs.toString());
        assertTrue(relayArgs.contains("-XX:+UseSerialGC"), relayArgs.toString());
        assertTrue(relayArgs.contains("-D" + Launcher.LAUNCHED_PROPERTY + "=" + launcher.pid()), relayArgs.toString());
        assertTrue(log().contains("launcher (pid " + launcher.pid() + ") started this JVM with: -Xmx"), log());
        assertServesNip11(port);

        launcher.destroy(); // SIGTERM to the launcher, as a supervisor sends it
        int code = awaitExit(launcher);
        assertTrue(relay.onExit().get(WAIT_S, TimeUnit.SECONDS) != null && !relay.isAlive(), "the relay JVM stopped with its launcher");
        assertEquals(0, code, "the launcher exits as the relay did on SIGTERM: a clean stop, 0");
        assertTrue(log().contains("shutting down"), "the relay shut down cleanly:\n" + log());
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"in the launcher's place", "as the launcher's child"})
    void theRelaysExitCodeIsTheCommandsExitCode(String how) throws Exception {
        Map<String, String> env = how.startsWith("as") ? Map.of(Launcher.CHILD_ENV, "1") : Map.of();
        try (ServerSocket taken = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            Process jar = startJar(env, "127.0.0.1:" + taken.getLocalPort());
            int code = awaitExit(jar);
            assertTrue(log().contains("(pid " + jar.pid() + ")") && log().contains("JVM with: -Xmx"), "the relay JVM ran:\n" + log());
            assertTrue(log().contains("cannot start"), log());
            assertEquals(1, code, "the relay's 'cannot start' exit code is the command's");
        }
    }

    @Test
    void killingTheLauncherOutrightStillStopsItsChildRelay() throws Exception {
        Process launcher = startJar(Map.of(Launcher.CHILD_ENV, "1"), "127.0.0.1:0");
        awaitListeningPort(launcher);
        ProcessHandle relay = relayJvmsUnder(launcher).get(0);
        launcher.destroyForcibly(); // SIGKILL: no shutdown hook forwards anything
        awaitExit(launcher);
        relay.onExit().get(WAIT_S, TimeUnit.SECONDS);
        assertFalse(relay.isAlive(), "an orphaned relay would keep the port and the database");
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"sqlite", "lmdb"})
    void aKilledRelayLeavesNoCopyOfItsNativeLibrariesBehind(String backend) throws Exception {
        Path tmp = Files.createDirectories(dir.resolve("tmp"));
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        for (int start = 1; start <= 3; start++) {
            Process jar = startJar(Map.of(), "127.0.0.1:0", backend, java, List.of("-Djava.io.tmpdir=" + tmp));
            int port = awaitListeningPort(jar);
            try (RelayClient client = RelayClient.connect("ws://127.0.0.1:" + port)) { // the store and the verifier load their native code
                assertTrue(client.publishAndWait(NostrKey.generate().sign(1, List.of(), "native")).get(2).asBoolean());
            }
            String maps = Files.readString(Path.of("/proc/" + jar.pid() + "/maps"));
            String store = backend.equals("lmdb") ? "/liblmdb-" : "/libsqlitejdbc-";
            assertTrue(maps.contains("/nexus-native-") && maps.contains("/libsecp256k1-jni-") && maps.contains(store),
                    "the relay loaded its libraries from the directory of its own:\n" + maps);
            assertTrue(log().contains("verifier: libsecp256k1 (JNI)"), log());
            jar.destroyForcibly(); // SIGKILL: no exit hook deletes anything
            awaitExit(jar);
        }
        List<String> left;
        try (var files = Files.walk(tmp)) {
            left = files.filter(Files::isRegularFile).map(f -> tmp.relativize(f).toString()).sorted().toList();
        }
        int uid = (Integer) Files.getAttribute(tmp, "unix:uid");
        assertEquals(3, left.size(), "one file per bundled library (SQLite, libsecp256k1, LMDB), however often the relay was killed: " + left);
        assertTrue(left.stream().allMatch(f -> f.startsWith("nexus-native-" + uid + "/")), left.toString());
        assertTrue(left.stream().anyMatch(f -> f.contains("libsqlitejdbc-")) && left.stream().anyMatch(f -> f.contains("libsecp256k1-jni-"))
                && left.stream().anyMatch(f -> f.contains("liblmdb-")), left.toString());
    }

    @Test
    void anAdminCommandsWarningsGoToStandardErrorNotIntoItsReport() throws Exception {
        Path tmp = Files.createDirectories(dir.resolve("tmp"));
        int uid = (Integer) Files.getAttribute(tmp, "unix:uid");
        for (Path place : List.of(tmp, dir)) { // the temporary directory, then the data directory: both refused, a WARN line
            Path notPrivate = Files.createDirectory(place.resolve("nexus-native-" + uid));
            Files.setPosixFilePermissions(notPrivate, java.nio.file.attribute.PosixFilePermissions.fromString("rwxrwxrwx"));
        }
        Path cfg = dir.resolve("nexus.toml");
        Files.writeString(cfg, "[storage]\npath = \"" + dir.resolve("nexus.db") + "\"\n");
        new dev.nexus.storage.SqliteEventStore(dir.resolve("nexus.db"), "normal", 2, 256, dev.nexus.storage.RetentionPolicy.DEFAULT).close();
        Path stdout = dir.resolve("stats.out"), stderr = dir.resolve("stats.err");
        Process stats = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Djava.io.tmpdir=" + tmp,
                "-jar", System.getProperty("nexus.jar"), "stats", "--config", cfg.toString())
                .redirectOutput(stdout.toFile()).redirectError(stderr.toFile()).start();
        started.add(stats);
        assertEquals(0, awaitExit(stats), Files.readString(stderr));
        String report = Files.readString(stdout), errors = Files.readString(stderr);
        assertTrue(errors.contains("WARN") && errors.contains("native libraries not unpacked"), "the warning is on stderr:\n" + errors);
        assertFalse(report.isBlank(), "stats printed its report");
        assertFalse(report.contains("WARN") || report.contains("INFO"), "stdout is the report alone:\n" + report);
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"sqlite", "lmdb"})
    void onTheNewestJdkOnTheMachineTheLogStartsWithoutTheJdksNativeAccessWarnings(String backend) throws Exception {
        Path newest = newestJdk();
        Assumptions.assumeTrue(newest != null, "no JDK 22 or newer under /usr/lib/jvm (the machines carry Temurin 25)");
        // Twice: the first start may write the class-data archive at its stop, the second reads it.
        for (int start = 1; start <= 2; start++) {
            Process jar = startJar(Map.of(), "127.0.0.1:0", backend, newest.resolve("bin/java").toString());
            int port = awaitListeningPort(jar);
            try (RelayClient client = RelayClient.connect("ws://127.0.0.1:" + port)) { // the store and the verifier load their native code
                assertTrue(client.publishAndWait(NostrKey.generate().sign(1, List.of(), "native")).get(2).asBoolean());
            }
            jar.destroy();
            assertEquals(0, awaitExit(jar), "SIGTERM is a clean stop");
            String all = log();
            assertTrue(all.contains("launcher re-executed this process"), all);
            assertFalse(all.contains("WARNING:"), "start " + start + ": the JDK warned (restricted native access or sun.misc.Unsafe):\n" + all);
            assertFalse(all.contains("[error]") || all.contains("[warning]"), "start " + start + ": the JVM logged its own errors or warnings:\n" + all);
        }
    }

    /** The newest JDK of feature 22 or later in /usr/lib/jvm, or null. */
    private static Path newestJdk() throws IOException {
        Path jvms = Path.of("/usr/lib/jvm");
        if (!Files.isDirectory(jvms)) return null;
        Pattern version = Pattern.compile("JAVA_VERSION=\"(\\d+)");
        Path best = null;
        int bestFeature = 21;
        try (var dirs = Files.list(jvms)) {
            for (Path d : dirs.toList()) {
                Path release = d.resolve("release");
                if (!Files.isExecutable(d.resolve("bin/java")) || !Files.isRegularFile(release)) continue;
                Matcher m = version.matcher(Files.readString(release));
                int feature = m.find() ? Integer.parseInt(m.group(1)) : 0;
                if (feature > bestFeature) {
                    bestFeature = feature;
                    best = d;
                }
            }
        }
        return best;
    }

    /** The relay JVMs started under {@code p}; not the short-lived helpers the relay runs itself (renice, uname). */
    static List<ProcessHandle> relayJvmsUnder(Process p) {
        return p.children().filter(c -> c.info().commandLine().orElse("").contains(Launcher.MAIN_CLASS)).toList();
    }

    private static void assertServesNip11(int port) throws Exception {
        HttpResponse<String> info = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/"))
                .header("Accept", "application/nostr+json").build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(200, info.statusCode(), "the relay JVM serves NIP-11");
    }

    /** How many of the process's open descriptors point at {@code file}. */
    private static long descriptorsOn(long pid, Path file) throws IOException {
        Path target = file.toRealPath();
        try (var fds = Files.list(Path.of("/proc", Long.toString(pid), "fd"))) {
            return fds.filter(fd -> {
                try {
                    return Files.readSymbolicLink(fd).equals(target);
                } catch (IOException gone) {
                    return false;
                }
            }).count();
        }
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"through the launcher", "without the launcher"})
    void theLmdbBackendNeedsNoFlagsFromTheOperator(String how) throws Exception {
        Map<String, String> env = how.startsWith("without") ? Map.of(Launcher.NO_RELAUNCH_ENV, "1") : Map.of();
        Process launcher = startJar(env, "127.0.0.1:0", "lmdb");
        int port = awaitListeningPort(launcher);
        assertTrue(log().contains("LMDB store open at"), log());
        NostrKey key = NostrKey.generate();
        Event note = key.sign(1, List.of(List.of("t", "lmdb")), "stored in LMDB");
        try (RelayClient client = RelayClient.connect("ws://127.0.0.1:" + port)) {
            assertTrue(client.publishAndWait(note).get(2).asBoolean(), "OK true after the LMDB commit");
            assertEquals(List.of(note.id()), client.queryIds("t", "{\"#t\":[\"lmdb\"]}"));
        }
        launcher.destroy();
        assertEquals(0, awaitExit(launcher), "SIGTERM is a clean stop");
    }

    @Test
    void noRelaunchRunsTheRelayInTheFirstJvm() throws Exception {
        Process launcher = startJar(Map.of(Launcher.NO_RELAUNCH_ENV, "1"), "127.0.0.1:0");
        awaitListeningPort(launcher);
        assertEquals(0, relayJvmsUnder(launcher).size(), "no second JVM");
        assertTrue(log().contains("running without the launcher"), log());
        launcher.destroy();
        assertEquals(0, awaitExit(launcher), "SIGTERM is a clean stop");
    }
}
