package dev.nexus.server.cli;

import dev.nexus.config.ConfigException;
import dev.nexus.config.NexusConfig;
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
        try {
            return configFile == null ? NexusConfig.defaults() : NexusConfig.load(configFile);
        } catch (ConfigException e) {
            throw new ParameterException(spec.commandLine(), "config error: " + e.getMessage());
        }
    }

    Path databasePath(CommandSpec spec) {
        return Path.of(load(spec).storage().path());
    }
}
