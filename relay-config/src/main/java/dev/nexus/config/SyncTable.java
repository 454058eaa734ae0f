package dev.nexus.config;

import dev.nexus.config.NexusConfig.Sync;
import dev.nexus.config.NexusConfig.SyncDirection;
import dev.nexus.config.NexusConfig.SyncPeer;
import java.util.List;
import java.util.Set;

/** Reads and checks {@code [sync]} and its {@code [[sync.peers]]}; unknown keys are errors. */
final class SyncTable {
    private SyncTable() {}

    static Sync parse(Section s) throws ConfigException {
        String keyFile = s.string("secret_key_file", "");
        List<SyncPeer> peers = new java.util.ArrayList<>();
        Set<String> names = new java.util.HashSet<>();
        for (Section p : s.tables("peers")) {
            String url = p.string("url", "");
            if (!url.startsWith("ws://") && !url.startsWith("wss://")) throw new ConfigException(p.key("url") + " must be a ws:// or wss:// URL, got \"" + url + "\"");
            try {
                java.net.URI uri = new java.net.URI(url);
                if (uri.getHost() == null) throw new ConfigException(p.key("url") + " has no host: \"" + url + "\"");
            } catch (java.net.URISyntaxException e) {
                throw new ConfigException(p.key("url") + " is not a valid URL: " + e.getMessage());
            }
            String name = p.string("name", url);
            if (!names.add(name)) throw new ConfigException(p.key("name") + ": a peer named \"" + name + "\" is configured already");
            String filter = p.string("filter", "{}");
            try {
                new dev.nexus.core.ClientMessageParser(new dev.nexus.core.ProtocolLimits(2000, 102400, 1, 64, 1_000_000))
                        .parse("[\"REQ\",\"sync\"," + filter + "]");
            } catch (Exception e) {
                throw new ConfigException(p.key("filter") + " must be a NIP-01 filter as JSON, e.g. '{\"kinds\":[31990]}': "
                        + (e.getMessage() == null ? e.toString() : e.getMessage().replaceFirst("^invalid: ", "")));
            }
            String dir = p.string("direction", "down");
            SyncDirection direction = switch (dir) {
                case "down" -> SyncDirection.DOWN;
                case "up" -> SyncDirection.UP;
                case "both" -> SyncDirection.BOTH;
                default -> throw new ConfigException(p.key("direction") + " must be \"down\", \"up\" or \"both\", got \"" + dir + "\"");
            };
            int interval = p.integer("interval_seconds", 300, 1, 7 * 86400);
            long window = p.integer("window_seconds", 0L, 0L, 100L * 365 * 86400);
            p.rejectUnknownKeys();
            peers.add(new SyncPeer(name, url, filter, direction, interval, window));
        }
        s.rejectUnknownKeys();
        return new Sync(keyFile, List.copyOf(peers));
    }
}
