package dev.nexus.server;

import dev.nexus.config.NexusConfig;
import java.nio.file.Path;

/** A real Nexus on a random loopback port with its own SQLite file, for integration tests. */
final class TestRelay implements AutoCloseable {
    private final Path dir;
    private final String extraToml;
    private NexusServer server;

    private TestRelay(Path dir, String extraToml) {
        this.dir = dir;
        this.extraToml = extraToml;
    }

    /** Starts a relay; {@code toml} adds or overrides config (use {@code [auth] required = false} etc.). */
    static TestRelay start(Path dir, String toml) throws Exception {
        TestRelay r = new TestRelay(dir, toml);
        r.startServer(0);
        return r;
    }

    private void startServer(int port) throws Exception {
        String toml = withKey(withKey(extraToml, "server", "bind = \"127.0.0.1:" + port + "\""),
                "storage", "path = \"" + dir.resolve("nexus.db").toString().replace("\\", "/") + "\"");
        server = new NexusServer(NexusConfig.parse(toml), "test").start();
    }

    /** Stops the relay and starts it again on the same port and database file. */
    void restart() throws Exception {
        int port = server.port();
        server.close();
        startServer(port);
    }

    private static String withKey(String toml, String table, String line) {
        String header = "[" + table + "]\n";
        return toml.contains(header) ? toml.replace(header, header + line + "\n") : header + line + "\n" + toml;
    }

    NexusServer server() {
        return server;
    }

    int port() {
        return server.port();
    }

    String url() {
        return "ws://127.0.0.1:" + server.port();
    }

    @Override
    public void close() {
        server.close();
    }
}
