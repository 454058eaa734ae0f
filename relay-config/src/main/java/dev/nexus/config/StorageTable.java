package dev.nexus.config;

import dev.nexus.config.NexusConfig.Backend;
import dev.nexus.config.NexusConfig.Storage;
import java.util.Locale;

/** Reads and checks {@code [storage]}; unknown keys are errors. */
final class StorageTable {
    private StorageTable() {}

    static Storage parse(Section s) throws ConfigException {
        String backendName = s.string("backend", "sqlite").toLowerCase(Locale.ROOT);
        Backend backend = switch (backendName) {
            case "sqlite" -> Backend.SQLITE;
            case "postgres", "postgresql" -> Backend.POSTGRES;
            case "lmdb" -> Backend.LMDB;
            default -> throw new ConfigException(s.key("backend") + " must be \"sqlite\", \"lmdb\" or \"postgres\"");
        };
        String sync = s.string("synchronous", "normal").toLowerCase(Locale.ROOT);
        if (!sync.equals("normal") && !sync.equals("full")) throw new ConfigException(s.key("synchronous") + " must be \"normal\" or \"full\"");
        String path = s.string("path", backend == Backend.LMDB ? "./data/nexus-lmdb" : "./data/nexus.db");
        if (path.isBlank()) throw new ConfigException(s.key("path") + " must not be empty");
        String postgresUrl = s.string("postgres_url", "");
        if (backend == Backend.POSTGRES && postgresUrl.isBlank()) {
            throw new ConfigException(s.key("postgres_url") + " must be set when backend = \"postgres\", e.g. \"postgresql://127.0.0.1:5432/nexus?user=nexus\"");
        }
        if (!postgresUrl.isEmpty() && !(postgresUrl.startsWith("postgresql://") || postgresUrl.startsWith("postgres://"))) {
            throw new ConfigException(s.key("postgres_url") + " must be a libpq-style URI starting with postgresql://");
        }
        Storage storage = new Storage(backend, path, sync, s.integer("reader_pool_size", 4, 1, 64), s.integer("write_batch_max", 256, 1, 100000),
                s.integer("wal_max_bytes", 64L * 1024 * 1024, 256L * 1024, Long.MAX_VALUE),
                postgresUrl, s.integer("postgres_connect_timeout_ms", 5000, 100, 600000),
                s.integer("lmdb_map_bytes", 256L << 30, 16L << 20, 1L << 50));
        s.rejectUnknownKeys();
        return storage;
    }
}
