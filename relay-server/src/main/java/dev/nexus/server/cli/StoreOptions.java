package dev.nexus.server.cli;

import dev.nexus.config.ConfigException;
import dev.nexus.config.NexusConfig;
import dev.nexus.server.NativeLibraries;
import dev.nexus.storage.EventStore;
import dev.nexus.storage.RetentionPolicy;
import dev.nexus.storage.SqliteEventStore;
import dev.nexus.storage.lmdb.LmdbEventStore;
import dev.nexus.storage.postgres.PostgresEventStore;
import dev.nexus.storage.postgres.PostgresLocation;
import java.nio.file.Path;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;

/** {@code --config FILE}, shared by every admin command: the same file the relay starts with. */
final class StoreOptions {
    @Option(names = {"-c", "--config"}, paramLabel = "FILE",
            description = "the relay's TOML configuration (default: built-in defaults, SQLite at ./data/nexus.db)")
    Path configFile;

    /** The configuration; a bad file is a usage error (exit 2), as when the relay starts. */
    NexusConfig load(CommandSpec spec) {
        NexusConfig config;
        try {
            config = configFile == null ? NexusConfig.defaults() : NexusConfig.load(configFile);
        } catch (ConfigException e) {
            throw new ParameterException(spec.commandLine(), "config error: " + e.getMessage());
        }
        // Before any command opens a store or checks a signature, as the relay does at its start.
        NativeLibraries.unpackOnce(config.storage());
        return config;
    }

    /** The retention the relay applies, so that imported or synced events expire as published ones do. */
    static RetentionPolicy retention(NexusConfig config) {
        NexusConfig.Retention r = config.retention();
        return new RetentionPolicy(config.marketplace().kinds(), r.jobRequestSeconds(), r.jobResultSeconds(), r.jobFeedbackSeconds());
    }

    /**
     * The store the relay uses, SQLite or PostgreSQL as {@code [storage] backend} says, for commands
     * that write through the relay's own rules (import, sync).
     */
    static EventStore openStore(NexusConfig config, int readers) {
        NexusConfig.Storage s = config.storage();
        if (s.backend() == NexusConfig.Backend.POSTGRES) {
            return new PostgresEventStore(PostgresLocation.parse(s.postgresUrl()), readers, s.writeBatchMax(), retention(config), s.postgresConnectTimeoutMs());
        }
        if (s.backend() == NexusConfig.Backend.LMDB) {
            return new LmdbEventStore(Path.of(s.path()), s.synchronous(), s.writeBatchMax(), retention(config), s.lmdbMapBytes(), 0);
        }
        return new SqliteEventStore(Path.of(s.path()), s.synchronous(), readers, s.writeBatchMax(), retention(config), s.walMaxBytes());
    }

    /** The SQLite file the maintenance commands (compact, delete, export, stats) work on; export also reads LMDB, by itself. */
    Path databasePath(CommandSpec spec) {
        NexusConfig.Storage s = load(spec).storage();
        if (s.backend() == NexusConfig.Backend.LMDB) {
            throw new ParameterException(spec.commandLine(), spec.name() + " works on the SQLite store; [storage] backend is \"lmdb\" ("
                    + s.path() + "): export it (export reads LMDB) and import the file into a SQLite store to use " + spec.name());
        }
        return Path.of(s.path());
    }
}
