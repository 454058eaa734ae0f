package dev.nexus.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * The packaged ways to run the relay start it with the operator's command, {@code java -jar nexus.jar
 * --config ...}, so the launcher's JVM options apply: a heap, collector or compiler flag in a unit file
 * or an image would replace the launcher's choices for everyone who installs it that way. The unit may
 * say where native libraries are unpacked ({@code -Djava.io.tmpdir}): the launcher passes it on and
 * chooses nothing by it.
 */
class PackagedStartCommandTest {
    /** Tests run in the module's directory; the packaging files are at the repository's root. */
    private static final Path REPOSITORY = Path.of("..");
    /** Environment variables through which the JVM takes options without a command-line flag. */
    private static final Pattern JVM_OPTIONS_VARIABLE = Pattern.compile("JAVA_TOOL_OPTIONS|JDK_JAVA_OPTIONS|_JAVA_OPTIONS");

    @Test
    void theSystemdUnitStartsTheJarWithNoJvmTuningFlags() throws IOException {
        List<String> unit = Files.readAllLines(REPOSITORY.resolve("packaging/nexus.service"));
        List<String> execStart = unit.stream().filter(l -> l.startsWith("ExecStart=")).toList();
        assertEquals(1, execStart.size(), "one ExecStart line: " + execStart);
        List<String> argv = Arrays.asList(execStart.get(0).substring("ExecStart=".length()).trim().split("\\s+"));
        // Where to unpack native libraries is none of the launcher's choices; anything else before -jar could replace one.
        List<String> jvmOptions = argv.subList(1, argv.indexOf("-jar"));
        assertTrue(jvmOptions.stream().allMatch(o -> o.startsWith("-Djava.io.tmpdir=")), "nothing but java.io.tmpdir before -jar: " + jvmOptions);
        assertEquals(List.of("/usr/bin/java"), argv.subList(0, 1));
        assertEquals(List.of("-jar", "/opt/nexus/nexus.jar", "--config", "/etc/nexus/nexus.toml"), argv.subList(argv.indexOf("-jar"), argv.size()));
        assertTrue(unit.stream().filter(l -> !l.startsWith("#")).noneMatch(l -> JVM_OPTIONS_VARIABLE.matcher(l).find()),
                "no JVM options through the environment");
    }

    @Test
    void theContainerImageStartsTheJarWithNoJvmFlags() throws IOException {
        List<String> dockerfile = Files.readAllLines(REPOSITORY.resolve("docker/Dockerfile"));
        List<String> entrypoints = dockerfile.stream().filter(l -> l.startsWith("ENTRYPOINT")).toList();
        assertEquals(List.of("ENTRYPOINT [\"java\", \"-jar\", \"/opt/nexus/nexus.jar\"]"), entrypoints);
        List<String> cmd = dockerfile.stream().filter(l -> l.startsWith("CMD")).toList();
        assertEquals(List.of("CMD [\"--config\", \"/etc/nexus/nexus.toml\"]"), cmd);
        for (String line : dockerfile) {
            Matcher m = JVM_OPTIONS_VARIABLE.matcher(line);
            assertTrue(line.startsWith("#") || !m.find(), "no JVM options through the environment: " + line);
        }
    }
}
