package dev.nexus.config;

import dev.nexus.config.NexusConfig.Server;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/** Reads and checks {@code [server]}; unknown keys are errors. */
final class ServerTable {
    private ServerTable() {}

    static Server parse(Section s) throws ConfigException {
        String bind = s.string("bind", "127.0.0.1:7777");
        int colon = bind.lastIndexOf(':');
        if (colon <= 0) throw new ConfigException(s.key("bind") + " must be host:port, got \"" + bind + "\"");
        String host = bind.substring(0, colon);
        if (host.startsWith("[") && host.endsWith("]")) host = host.substring(1, host.length() - 1);
        int port;
        try {
            port = Integer.parseInt(bind.substring(colon + 1));
        } catch (NumberFormatException e) {
            throw new ConfigException(s.key("bind") + " must end in a numeric port, got \"" + bind + "\"");
        }
        if (port < 0 || port > 65535) throw new ConfigException(s.key("bind") + " port must be between 0 and 65535");
        String url = s.string("url", "");
        if (!url.isEmpty() && !(url.startsWith("ws://") || url.startsWith("wss://"))) {
            throw new ConfigException(s.key("url") + " must be a ws:// or wss:// URL");
        }
        String pubkey = s.string("pubkey", "");
        if (!pubkey.isEmpty() && !HexKeys.isHex64(pubkey)) throw new ConfigException(s.key("pubkey") + " must be 64 lowercase hex characters");
        int ping = s.integer("ping_interval_seconds", 30, 1, 3600);
        String realIpHeader = s.string("real_ip_header", "").trim();
        if (!realIpHeader.isEmpty() && !realIpHeader.matches("[A-Za-z0-9-]+")) {
            throw new ConfigException(s.key("real_ip_header") + " must be an HTTP header name, e.g. \"X-Forwarded-For\"");
        }
        String tlsCert = s.string("tls_cert", "");
        String tlsKey = s.string("tls_key", "");
        if (tlsCert.isEmpty() != tlsKey.isEmpty()) {
            throw new ConfigException(s.key(tlsCert.isEmpty() ? "tls_cert" : "tls_key") + " must be set too: TLS needs both a certificate and its key");
        }
        for (String key : List.of("tls_cert", "tls_key")) {
            String file = key.equals("tls_cert") ? tlsCert : tlsKey;
            if (!file.isEmpty() && !Files.isReadable(Path.of(file))) throw new ConfigException(s.key(key) + ": cannot read " + file);
        }
        List<String> relayNames = s.strings("relay_names", List.of());
        for (String name : relayNames) {
            if (name.isBlank() || !name.matches("(wss?://)?[A-Za-z0-9.:\\[\\]_-]+/?")) {
                throw new ConfigException(s.key("relay_names") + " entries must be host names, host:port or ws(s):// URLs, got \"" + name + "\"");
            }
        }
        Server server = new Server(host, port,
                s.string("name", "Nexus"),
                url,
                s.string("description", "Nexus: a Nostr relay for the agent compute marketplace (NIP-90 jobs, NIP-89 handlers)"),
                s.string("contact", ""),
                pubkey,
                s.integer("io_threads", 0, 0, 256),
                s.integer("verifier_threads", 0, 0, 256),
                s.integer("query_threads", 0, 0, 256),
                ping,
                s.integer("idle_timeout_seconds", 3 * ping, 2, 36000),
                realIpHeader, tlsCert, tlsKey, relayNames,
                s.integer("max_connections", 10000, 1, 10_000_000),
                s.integer("max_pre_upgrade_connections", 1000, 1, 10_000_000),
                s.integer("http_request_timeout_seconds", 10, 1, 3600),
                s.integer("live_coalesce_millis", 10, 0, 100),
                s.bool("warm_up", true));
        if (server.idleTimeoutSeconds() <= ping) {
            throw new ConfigException(s.key("idle_timeout_seconds") + " must be longer than ping_interval_seconds");
        }
        s.rejectUnknownKeys();
        return server;
    }
}
