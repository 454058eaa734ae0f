package dev.nexus.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LauncherTest {
    @Test
    void onASmallMachineWithMuchRamTheHeapIsCappedAndOnlyC1Runs() {
        JvmPlan.Plan plan = JvmPlan.plan(new JvmPlan.Machine(2, 24 * 1024, 17, null, false), List.of());
        List<String> o = plan.jvmOptions();
        assertTrue(o.contains("-Xmx1024m"), o.toString());
        assertTrue(o.contains("-XX:TieredStopAtLevel=1"), o.toString());
        assertTrue(o.contains("-XX:+UseSerialGC"), o.toString());
        assertTrue(o.contains("-XX:SurvivorRatio=3"), "survivor spaces that hold a flood's events in flight: " + o);
        assertFalse(o.stream().anyMatch(x -> x.contains("SharedArchive")), "no AutoCreateSharedArchive before JDK 19: " + o);
    }

    @Test
    void theHeapIsAQuarterOfASmallMachinesRamAndC2StaysOnManyCores() {
        List<String> o = JvmPlan.plan(new JvmPlan.Machine(16, 2048, 21, Path.of("/home/n/.cache/nexus/a.jsa"), false), List.of()).jvmOptions();
        assertTrue(o.contains("-Xmx512m"), o.toString());
        assertFalse(o.contains("-XX:TieredStopAtLevel=1"), o.toString());
        assertTrue(o.contains("-XX:+AutoCreateSharedArchive"), o.toString());
        assertTrue(o.contains("-XX:SharedArchiveFile=/home/n/.cache/nexus/a.jsa"), o.toString());
        assertTrue(o.contains("-Xlog:cds=off,cds+dynamic=off"), "the archive's housekeeping stays out of the log: " + o);
    }

    @Test
    void aNewClassDataArchiveReplacesTheArchivesOfEarlierJarsAndJdks(@TempDir Path cache) throws Exception {
        Path old = Files.writeString(cache.resolve("nexus-0ld.jsa"), "an earlier jar's archive");
        Path other = Files.writeString(cache.resolve("notes.txt"), "not an archive");
        Path current = cache.resolve("nexus-cafe.jsa");
        JvmPlan.removeOtherArchives(cache, current);
        assertFalse(Files.exists(old), "the earlier archive is gone");
        assertTrue(Files.exists(other), "nothing but archives is touched");
        Files.writeString(current, "this jar's archive");
        JvmPlan.removeOtherArchives(cache, current);
        assertTrue(Files.exists(current), "the current archive is kept");
    }

    @Test
    void noPerfDataSamplerWakesAnIdleRelayUnlessTheOperatorAsksForIt() {
        List<String> ours = JvmPlan.plan(new JvmPlan.Machine(2, 8192, 17, null, false), List.of()).jvmOptions();
        assertTrue(ours.contains("-XX:-UsePerfData"), ours.toString());
        List<String> theirs = JvmPlan.plan(new JvmPlan.Machine(2, 8192, 17, null, false), List.of("-XX:+UsePerfData")).jvmOptions();
        assertTrue(theirs.lastIndexOf("-XX:+UsePerfData") > theirs.indexOf("-XX:-UsePerfData"), "the operator's choice comes last, and the JVM takes the last: " + theirs);
    }

    @Test
    void freedNativeMemoryIsTrimmedWhereTheJvmKnowsHow() {
        List<String> trims = JvmPlan.plan(new JvmPlan.Machine(2, 8192, 17, null, true), List.of()).jvmOptions();
        assertTrue(trims.contains("-XX:TrimNativeHeapInterval=" + JvmPlan.NATIVE_TRIM_INTERVAL_MILLIS), trims.toString());
        List<String> older = JvmPlan.plan(new JvmPlan.Machine(2, 8192, 17, null, false), List.of()).jvmOptions();
        assertFalse(older.stream().anyMatch(x -> x.contains("TrimNativeHeap")), "an unknown -XX option stops the JVM: " + older);
    }

    @Test
    void nettysBufferChunksAreOneMebibyteUnlessTheOperatorChoosesTheirOwn() {
        List<String> ours = JvmPlan.plan(new JvmPlan.Machine(2, 8192, 17, null, false), List.of()).jvmOptions();
        assertTrue(ours.contains("-Dio.netty.allocator.maxOrder=7"), ours.toString());
        List<String> theirs = JvmPlan.plan(new JvmPlan.Machine(2, 8192, 17, null, false), List.of("-Dio.netty.allocator.maxOrder=9")).jvmOptions();
        assertEquals(1, theirs.stream().filter(o -> o.startsWith("-Dio.netty.allocator.maxOrder=")).count(), theirs.toString());
        assertTrue(theirs.contains("-Dio.netty.allocator.maxOrder=9"), theirs.toString());
    }

    @Test
    void theRelayJvmOpensJavaNioToLmdbjavaSoTheLmdbBackendNeedsNoFlags() {
        List<String> ours = JvmPlan.plan(new JvmPlan.Machine(2, 8192, 17, null, false), List.of()).jvmOptions();
        int at = ours.indexOf("java.base/java.nio=ALL-UNNAMED");
        assertTrue(at > 0 && ours.get(at - 1).equals("--add-opens"), ours.toString());
        assertTrue(ours.contains("java.base/sun.nio.ch=ALL-UNNAMED"), ours.toString());
    }

    @Test
    void onNewerJdksTheRelaysLibrariesMayLoadNativeCodeAndUseUnsafeWithoutAWarning() {
        List<String> on17 = JvmPlan.plan(new JvmPlan.Machine(2, 8192, 17, null, false), List.of()).jvmOptions();
        assertFalse(on17.stream().anyMatch(o -> o.startsWith("--enable-native-access") || o.startsWith("--sun-misc-unsafe")), on17.toString());
        List<String> on22 = JvmPlan.plan(new JvmPlan.Machine(2, 8192, 22, null, false), List.of()).jvmOptions();
        assertTrue(on22.contains("--enable-native-access=ALL-UNNAMED"), on22.toString());
        assertFalse(on22.stream().anyMatch(o -> o.startsWith("--sun-misc-unsafe")), "JDK 22 does not know the option: " + on22);
        List<String> on25 = JvmPlan.plan(new JvmPlan.Machine(2, 8192, 25, null, false), List.of()).jvmOptions();
        assertTrue(on25.contains("--enable-native-access=ALL-UNNAMED") && on25.contains("--sun-misc-unsafe-memory-access=allow"), on25.toString());
    }

    @Test
    void thisJvmIsAskedWhetherItKnowsAnOption() {
        assertTrue(JvmPlan.Machine.knowsOption("MaxHeapSize"));
        assertFalse(JvmPlan.Machine.knowsOption("NoSuchOptionAnywhere"));
    }

    @Test
    void theHeapNeverGoesBelowTheFloorOnATinyContainer() {
        List<String> o = JvmPlan.plan(new JvmPlan.Machine(1, 256, 17, null, false), List.of()).jvmOptions();
        assertTrue(o.contains("-Xmx" + JvmPlan.MIN_HEAP_MIB + "m"), o.toString());
    }

    @Test
    void theOperatorsOwnOptionsComeLastSoTheyWin() {
        JvmPlan.Plan plan = JvmPlan.plan(new JvmPlan.Machine(2, 8192, 17, null, false), List.of("-Xmx3g", "-XX:+UseG1GC"));
        List<String> o = plan.jvmOptions();
        assertEquals(List.of("-Xmx3g", "-XX:+UseG1GC"), o.subList(o.size() - 2, o.size()));
        assertTrue(o.indexOf("-Xmx1024m") < o.indexOf("-Xmx3g"));
        assertTrue(plan.summary().contains("operator's own options last"), plan.summary());
    }

    @Test
    void anOperatorsOwnCollectorAndHeapReplaceOursInsteadOfConflicting() {
        List<String> o = JvmPlan.plan(new JvmPlan.Machine(2, 8192, 17, null, false), List.of("-XX:+UseG1GC", "-Xmx32m")).jvmOptions();
        assertFalse(o.contains("-XX:+UseSerialGC"), "two collectors stop the JVM: " + o);
        assertFalse(o.contains("-XX:SurvivorRatio=3"), "the survivor sizing is tuned for our collector only: " + o);
        assertFalse(o.contains("-Xms64m"), "an initial heap above the operator's maximum stops the JVM: " + o);
        assertTrue(o.contains("-XX:+UseG1GC") && o.contains("-Xmx32m"), o.toString());
    }

    @Test
    void onlyARelayRunIsRelaunchedNotHelpVersionOrBadArguments() {
        assertTrue(Launcher.startsTheRelay(new String[] {}));
        assertTrue(Launcher.startsTheRelay(new String[] {"--config", "nexus.toml"}));
        assertTrue(Launcher.startsTheRelay(new String[] {"-c", "nexus.toml"}));
        assertFalse(Launcher.startsTheRelay(new String[] {"--help"}));
        assertFalse(Launcher.startsTheRelay(new String[] {"--version"}));
        assertFalse(Launcher.startsTheRelay(new String[] {"--config", "x.toml", "--frobnicate"}));
    }

    @Test
    void noRelaunchArgumentIsConsumedAndTheRelayRunsInThisJvm() {
        String[] rest = Launcher.relaunchIfNeeded(new String[] {"--no-relaunch", "--config", "x.toml"});
        assertEquals(List.of("--config", "x.toml"), List.of(rest));
    }
}
