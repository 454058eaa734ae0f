package dev.nexus.server.cli;

import dev.nexus.core.Filter;
import dev.nexus.config.NexusConfig;
import dev.nexus.storage.EventStore;
import dev.nexus.storage.SqliteMaintenance;
import java.io.BufferedOutputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicLong;
import java.util.zip.GZIPOutputStream;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

@Command(name = "export", mixinStandardHelpOptions = true, versionProvider = AdminCli.VersionProvider.class, sortOptions = false,
        description = {"Write stored, unexpired events as JSON lines (JSONL), oldest first, streaming from a database cursor "
                + "(constant memory). Safe while the relay runs (a read-only connection; WAL lets it read beside the writer). "
                + "An LMDB store is read through its queries a page at a time, newest first, beside the running relay too.",
                "Exit codes: 0 done, 1 failed, 2 usage or configuration error."})
final class ExportCommand implements Callable<Integer>, AdminCli.Streams {
    @Spec CommandSpec spec;
    @Mixin StoreOptions store;
    @Mixin FilterOptions filterOptions;

    @Option(names = {"-o", "--out"}, paramLabel = "FILE", description = "write to FILE instead of stdout; a name ending in .gz is gzip-compressed")
    Path outFile;

    private PrintStream out, err;

    @Override
    public void use(PrintStream out, PrintStream err) {
        this.out = out;
        this.err = err;
    }

    @Override
    public Integer call() throws Exception {
        Filter filter = filterOptions.filter(spec);
        long now = System.currentTimeMillis() / 1000;
        AtomicLong written = new AtomicLong();
        long start = System.nanoTime();
        try (EventSource source = openSource();
             OutputStream target = open();
             Progress progress = new Progress(err, Progress.stderrIsTerminal(err),
                     () -> "export: " + String.format("%,d", written.get()) + " events, " + Progress.rate(written.get(), System.nanoTime() - start))) {
            SqliteMaintenance.EventSink lines = SqliteMaintenance.jsonLines(target);
            source.export(filter, now, json -> {
                lines.accept(json);
                written.incrementAndGet();
            });
        }
        long nanos = System.nanoTime() - start;
        err.println("export: " + String.format("%,d", written.get()) + " events in " + Progress.seconds(nanos) + " ("
                + Progress.rate(written.get(), nanos) + ")" + (outFile != null ? " to " + outFile : ""));
        return AdminCli.OK;
    }

    /** Where the events come from: SQLite's export cursor, or an LMDB store walked a page at a time. */
    private interface EventSource extends AutoCloseable {
        void export(Filter filter, long now, SqliteMaintenance.EventSink sink) throws Exception;
    }

    private static final int LMDB_PAGE = 1000;

    private EventSource openSource() throws Exception {
        NexusConfig config = store.load(spec);
        if (config.storage().backend() != NexusConfig.Backend.LMDB) {
            SqliteMaintenance sqlite = SqliteMaintenance.open(Path.of(config.storage().path()), true);
            return new EventSource() {
                @Override
                public void export(Filter filter, long now, SqliteMaintenance.EventSink sink) throws Exception {
                    sqlite.export(filter, now, sink);
                }

                @Override
                public void close() throws Exception {
                    sqlite.close();
                }
            };
        }
        // LMDB has no SQL cursor: its store is walked newest first, a page at a time (EventStore.stream).
        EventStore lmdb = StoreOptions.openStore(config, 1);
        return new EventSource() {
            @Override
            public void export(Filter filter, long now, SqliteMaintenance.EventSink sink) throws Exception {
                java.io.IOException[] failed = {null};
                lmdb.stream(filter, now, LMDB_PAGE, e -> {
                    try {
                        sink.accept(e.json());
                        return true;
                    } catch (java.io.IOException ex) {
                        failed[0] = ex;
                        return false;
                    }
                });
                if (failed[0] != null) throw failed[0];
            }

            @Override
            public void close() {
                lmdb.close();
            }
        };
    }

    private OutputStream open() throws Exception {
        if (outFile == null) {
            // stdout stays open after the command (it is the caller's); only flush it.
            return new BufferedOutputStream(out, 1 << 16) {
                @Override
                public void close() throws java.io.IOException {
                    flush();
                }
            };
        }
        OutputStream file = new BufferedOutputStream(Files.newOutputStream(outFile), 1 << 16);
        return outFile.toString().endsWith(".gz") ? new GZIPOutputStream(file, 1 << 16) : file;
    }
}
