package dev.nexus.server.cli;

import dev.nexus.config.NexusConfig;
import dev.nexus.core.ProtocolLimits;
import dev.nexus.core.SignatureVerifiers;
import dev.nexus.storage.RetentionPolicy;
import dev.nexus.storage.EventStore;
import java.io.BufferedInputStream;
import java.io.BufferedReader;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.zip.GZIPInputStream;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

@Command(name = "import", mixinStandardHelpOptions = true, versionProvider = AdminCli.VersionProvider.class, sortOptions = false,
        description = {"Load events from JSON lines (plain or gzip, e.g. from export), checking each id and signature and "
                + "applying replaceable, addressable and deletion rules as the relay does for published events. "
                + "Resumable: running it again skips what is stored (counted as duplicate). Ephemeral and already-expired "
                + "events are skipped. Run it with the relay stopped: a running relay's subscribers would not see the "
                + "imported events, and the two writers would take turns at the database lock.",
                "Exit codes: 0 every line handled (stored, duplicate or refused by the relay's rules), 1 a line was "
                + "invalid or could not be stored, or the input could not be read, 2 usage or configuration error."})
final class ImportCommand implements Callable<Integer>, AdminCli.Streams {
    @Spec CommandSpec spec;
    @Mixin StoreOptions store;

    @Parameters(index = "0", paramLabel = "FILE|-", description = "the JSONL file (gzip is recognised by its magic bytes), or - for stdin")
    String input;

    @Option(names = "--no-verify", description = "skip signature checks (a trusted dump); ids are still checked")
    boolean noVerify;

    private PrintStream out, err;

    @Override
    public void use(PrintStream out, PrintStream err) {
        this.out = out;
        this.err = err;
    }

    @Override
    public Integer call() throws Exception {
        NexusConfig config = store.load(spec);
        InputStream raw;
        try {
            raw = input.equals("-") ? System.in : Files.newInputStream(Path.of(input));
        } catch (NoSuchFileException e) {
            throw new ParameterException(spec.commandLine(), "no such file: " + input);
        }
        NexusConfig.Limits l = config.limits();
        ProtocolLimits limits = new ProtocolLimits(l.maxEventTags(), l.maxContentLength(), l.maxFilters(), l.maxSubidLength(), l.maxFilterValues());
        RetentionPolicy retention = StoreOptions.retention(config);
        long start = System.nanoTime();
        Map<Importer.Outcome, Long> counts;
        Importer importer;
        try (BufferedReader reader = new BufferedReader(new InputStreamReader(gunzipIfNeeded(raw), StandardCharsets.UTF_8), 1 << 16);
             EventStore target = StoreOptions.openStore(config, 1)) {
            importer = new Importer(target, noVerify ? null : SignatureVerifiers.best(), limits, retention,
                    Runtime.getRuntime().availableProcessors());
            final Importer running = importer;
            try (Progress progress = new Progress(err, Progress.stderrIsTerminal(err), () -> "import: "
                    + String.format("%,d", running.done()) + " events, " + String.format("%,d", running.count(Importer.Outcome.STORED))
                    + " stored, " + Progress.rate(running.done(), System.nanoTime() - start))) {
                counts = importer.run(reader);
            }
        }
        long nanos = System.nanoTime() - start;
        long total = counts.values().stream().mapToLong(Long::longValue).sum();
        for (String problem : importer.problems()) err.println("import: " + problem);
        StringBuilder summary = new StringBuilder("imported ").append(total).append(" events in ").append(Progress.seconds(nanos))
                .append(" (").append(Progress.rate(total, nanos)).append("):");
        for (Map.Entry<Importer.Outcome, Long> e : counts.entrySet()) summary.append(' ').append(e.getKey().label()).append('=').append(e.getValue());
        out.println(summary);
        return counts.get(Importer.Outcome.INVALID) + counts.get(Importer.Outcome.ERROR) > 0 ? AdminCli.FAILED : AdminCli.OK;
    }

    private static InputStream gunzipIfNeeded(InputStream in) throws java.io.IOException {
        BufferedInputStream buffered = new BufferedInputStream(in, 1 << 16);
        buffered.mark(2);
        int b1 = buffered.read(), b2 = buffered.read();
        buffered.reset();
        return b1 == 0x1f && b2 == 0x8b ? new GZIPInputStream(buffered, 1 << 16) : buffered;
    }
}
