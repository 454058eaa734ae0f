package dev.nexus.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.nexus.config.NexusConfig;
import dev.nexus.core.Event;
import dev.nexus.core.Kinds;
import dev.nexus.core.testing.NostrKey;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpVersion;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** NIP-42 AUTH is bound to this relay's own names, and the other knobs an attacker behind or around a proxy would turn. */
class AuthBoundToThisRelayTest {
    @TempDir Path dir;
    private final NostrKey victim = NostrKey.generate();

    private static JsonNode authOverRawSocket(RawWebSocket ws, NostrKey key, String relayTag) throws Exception {
        JsonNode challenge = RelayClient.JSON.readTree(ws.readText());
        Event auth = key.sign(Kinds.AUTH, List.of(List.of("relay", relayTag), List.of("challenge", challenge.get(1).asText())), "");
        ws.sendText("[\"AUTH\"," + auth.json() + "]");
        return RelayClient.JSON.readTree(ws.readText());
    }

    @Test
    void anAuthEventSignedForAnotherRelayIsRefusedWhateverHostTheClientSends() throws Exception {
        try (TestRelay relay = TestRelay.start(dir, "");
             RawWebSocket ws = RawWebSocket.connect("127.0.0.1", relay.port(), "other-relay.example.com", "")) {
            assertTrue(ws.status.contains("101"), ws.status);
            JsonNode ok = authOverRawSocket(ws, victim, "wss://other-relay.example.com");
            assertEquals("OK", ok.get(0).asText());
            assertFalse(ok.get(2).asBoolean(), "an AUTH naming another relay must not be accepted: " + ok);
            assertTrue(ok.get(3).asText().startsWith("invalid: relay tag"), ok.toString());
        }
    }

    @Test
    void withNoUrlTheBindAddressItsLoopbackNamesAndConfiguredRelayNamesAreAccepted() throws Exception {
        try (TestRelay relay = TestRelay.start(dir, "[server]\nrelay_names = [\"relay.example.com\", \"ws://agents.example.org:8080\"]\n")) {
            for (String name : List.of(relay.url(), "ws://localhost:" + relay.port(), "wss://relay.example.com/",
                    "ws://RELAY.example.com", "ws://agents.example.org:8080")) {
                try (RawWebSocket ws = RawWebSocket.connect("127.0.0.1", relay.port(), "anything.example.net", "")) {
                    JsonNode ok = authOverRawSocket(ws, victim, name);
                    assertTrue(ok.get(2).asBoolean(), name + ": " + ok);
                }
            }
            try (RawWebSocket ws = RawWebSocket.connect("127.0.0.1", relay.port(), "agents.example.org", "")) {
                assertFalse(authOverRawSocket(ws, victim, "ws://agents.example.org").get(2).asBoolean(),
                        "a listed URL names its port; the Host header does not add another");
            }
        }
    }

    @Test
    void theStartWarningIsDueOnlyWhenAuthIsRequiredTheBindIsPublicAndNoUrlIsSet() throws Exception {
        assertTrue(NexusServer.authUrlWarningDue(NexusConfig.parse("[server]\nbind = \"0.0.0.0:7777\"\n")));
        assertFalse(NexusServer.authUrlWarningDue(NexusConfig.parse("[server]\nbind = \"0.0.0.0:7777\"\nurl = \"wss://r.example.com\"\n")));
        assertFalse(NexusServer.authUrlWarningDue(NexusConfig.parse("[server]\nbind = \"127.0.0.1:7777\"\n")));
        assertFalse(NexusServer.authUrlWarningDue(NexusConfig.parse("[server]\nbind = \"0.0.0.0:7777\"\n[auth]\nrequired = false\n")));
    }

    @Test
    void withAuthRequiredTheAllowListAlsoCoversTheAuthorsOfPublishedEvents() throws Exception {
        NostrKey agent = NostrKey.generate();
        NostrKey stranger = NostrKey.generate();
        try (TestRelay relay = TestRelay.start(dir, "[auth]\nallowed_pubkeys = [\"" + agent.pubkey() + "\"]\n");
             RelayClient c = RelayClient.connect(relay)) {
            c.authenticate(agent, relay);
            assertTrue(c.publishAndWait(agent.sign(1, "mine")).get(2).asBoolean());
            JsonNode ok = c.publishAndWait(stranger.sign(1, "signed by a key that is not allowed"));
            assertFalse(ok.get(2).asBoolean());
            assertTrue(ok.get(3).asText().startsWith("restricted:"), ok.toString());
        }
        try (TestRelay relay = TestRelay.start(dir, "[auth]\nallowed_pubkeys = [\"" + agent.pubkey() + "\"]\nallow_list_covers_authors = false\n");
             RelayClient c = RelayClient.connect(relay)) {
            c.authenticate(agent, relay);
            assertTrue(c.publishAndWait(stranger.sign(1059, List.of(List.of("p", agent.pubkey())), "a gift wrap by a one-time key"))
                    .get(2).asBoolean(), "configurable, e.g. for NIP-59 gift wraps signed by one-time keys");
        }
    }

    @Test
    void theRealIpIsTheLastEntryOfTheLastHeaderLineNotTheClientsOwnFirstLine() {
        NexusConfig config = NexusConfig.defaults();
        RelayInfoHandler handler = new RelayInfoHandler(RelayInfo.render(config, "t"), "Nexus", "d", new RateLimiter(config.rateLimits()),
                "X-Forwarded-For", RelayInfoHandlerTest.metricsOf(config));
        EmbeddedChannel ch = new EmbeddedChannel(handler);
        FullHttpRequest req = new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.GET, "/");
        req.headers().set(HttpHeaderNames.UPGRADE, "websocket").set(HttpHeaderNames.CONNECTION, "Upgrade");
        req.headers().add("X-Forwarded-For", "6.6.6.6");          // sent by the client itself
        req.headers().add("X-Forwarded-For", "10.0.0.1, 203.0.113.7"); // appended by the proxy
        ch.writeInbound(req);
        ((FullHttpRequest) ch.readInbound()).release();
        assertEquals("203.0.113.7", ch.attr(RelayInfoHandler.CLIENT_IP).get());
    }

    @Test
    void ipv6LoopbackWrittenAsColonColonOneIsExempt() throws Exception {
        String toml = "[server]\nbind = \"[::1]:0\"\n[storage]\npath = \"" + dir.resolve("v6.db").toString().replace("\\", "/")
                + "\"\n[auth]\nrequired = false\n[rate_limits]\nmax_connections_per_ip = 1\nexempt_ips = [\"::1\"]\n";
        try (NexusServer server = new NexusServer(NexusConfig.parse(toml), "test").start();
             RawWebSocket one = RawWebSocket.connect("::1", server.port(), "[::1]", "");
             RawWebSocket two = RawWebSocket.connect("::1", server.port(), "[::1]", "")) {
            assertTrue(one.status.contains("101"), one.status);
            assertTrue(two.status.contains("101"), "::1 is exempt from the per-IP cap: " + two.status);
        }
        assertEquals("::1", IpAddresses.normalize("0:0:0:0:0:0:0:1"));
        assertEquals("127.0.0.1", IpAddresses.normalize("::ffff:127.0.0.1"));
        assertEquals(null, IpAddresses.normalize("localhost"), "names are never resolved");
    }

    @Test
    void clientSuppliedStringsAreEscapedInLogLines() {
        assertEquals("\"sub\\u000a2026-01-01 INFO forged line\"", LogSafe.quote("sub\n2026-01-01 INFO forged line"));
        assertEquals("\"" + "a".repeat(80) + "...\"", LogSafe.quote("a".repeat(500)));
        assertEquals("peer said \\u000a2026-01-01 INFO forged \"line\"", LogSafe.line("peer said \n2026-01-01 INFO forged \"line\""));
        assertEquals("b".repeat(300) + "...", LogSafe.line("b".repeat(500)));
    }
}
