package dev.nexus.server.cli;

import dev.nexus.config.NexusConfig;
import dev.nexus.config.NexusConfig.SyncDirection;
import dev.nexus.core.Filter;
import dev.nexus.core.SignatureVerifiers;
import dev.nexus.server.sync.EventSigner;
import dev.nexus.server.sync.PeerSync;
import dev.nexus.server.sync.SyncException;
import dev.nexus.server.sync.SyncStats;
import dev.nexus.storage.EventStore;
import java.io.PrintStream;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

@Command(name = "sync", mixinStandardHelpOptions = true, versionProvider = AdminCli.VersionProvider.class, sortOptions = false,
        description = {"Reconcile this relay's store with another relay over NIP-77 (negentropy), then fetch what this side lacks "
                + "(--dir down), publish what the peer lacks (--dir up), or both. Fetched events are checked (id, signature, this "
                + "relay's access lists and time limits) and stored with the relay's replaceable, addressable and deletion rules. "
                + "May run while the relay runs (SQLite WAL), but the running relay's live subscribers do not see what it stores; "
                + "configure [[sync.peers]] for that. Authenticates (NIP-42) when the peer asks, with the key in "
                + "NEXUS_SYNC_SECRET_KEY (hex) or [sync] secret_key_file.",
                "Exit codes: 0 reconciled and every difference moved or refused by a relay's rules, 1 the sync failed or some "
                + "events could not move (invalid from the peer, or refused by it for auth, rate or errors), 2 usage or configuration error."})
final class SyncCommand implements Callable<Integer>, AdminCli.Streams {
    @Spec CommandSpec spec;
    @Mixin StoreOptions store;
    @Mixin FilterOptions filter;

    @Parameters(index = "0", paramLabel = "URL", description = "the peer relay, ws://host:port or wss://host")
    String url;

    @Option(names = "--dir", paramLabel = "down|up|both", defaultValue = "down",
            description = "down: fetch what the peer has and this relay lacks (default); up: publish what the peer lacks; both")
    String direction;

    @Option(names = "--timeout", paramLabel = "SECONDS", defaultValue = "30", description = "give up when the peer is silent this long (default 30)")
    int timeoutSeconds;

    private PrintStream out, err;

    @Override
    public void use(PrintStream out, PrintStream err) {
        this.out = out;
        this.err = err;
    }

    @Override
    public Integer call() throws Exception {
        NexusConfig config = store.load(spec);
        if (!url.startsWith("ws://") && !url.startsWith("wss://")) throw new ParameterException(spec.commandLine(), "the peer URL must start with ws:// or wss://");
        SyncDirection dir = switch (direction.toLowerCase(Locale.ROOT)) {
            case "down" -> SyncDirection.DOWN;
            case "up" -> SyncDirection.UP;
            case "both" -> SyncDirection.BOTH;
            default -> throw new ParameterException(spec.commandLine(), "--dir must be down, up or both");
        };
        if (timeoutSeconds < 1) throw new ParameterException(spec.commandLine(), "--timeout must be at least 1");
        Filter f = filter.filter(spec);
        EventSigner signer;
        try {
            signer = EventSigner.fromEnvironmentOrFile(System.getenv(EventSigner.ENVIRONMENT_VARIABLE), config.sync().secretKeyFile());
        } catch (IllegalArgumentException e) {
            throw new ParameterException(spec.commandLine(), e.getMessage());
        }
        try (EventStore target = StoreOptions.openStore(config, 2)) {
            PeerSync sync = new PeerSync(target, SignatureVerifiers.best(), config, signer, e -> { }, timeoutSeconds * 1000L);
            SyncStats stats;
            try {
                stats = sync.sync(url, f, dir);
            } catch (SyncException e) {
                err.println("nexus sync: " + e.getMessage());
                return AdminCli.FAILED;
            }
            out.println(stats.summary());
            return stats.hasFailures() ? AdminCli.FAILED : AdminCli.OK;
        }
    }
}
