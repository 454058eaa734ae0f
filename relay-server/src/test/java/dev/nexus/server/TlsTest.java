package dev.nexus.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.nexus.config.NexusConfig;
import dev.nexus.core.Event;
import dev.nexus.core.Kinds;
import dev.nexus.core.testing.NostrKey;
import io.netty.handler.ssl.util.SelfSignedCertificate;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.cert.CertificateFactory;
import java.util.List;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The relay terminating TLS itself: wss:// for clients and NIP-11 over https:// on the same port. */
class TlsTest {
    @TempDir Path dir;
    private SelfSignedCertificate certificate;
    private HttpClient trustingClient;

    @BeforeEach
    void makeCertificate() throws Exception {
        certificate = new SelfSignedCertificate("localhost");
        KeyStore trusted = KeyStore.getInstance(KeyStore.getDefaultType());
        trusted.load(null, null);
        try (InputStream in = Files.newInputStream(certificate.certificate().toPath())) {
            trusted.setCertificateEntry("relay", CertificateFactory.getInstance("X.509").generateCertificate(in));
        }
        TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        tmf.init(trusted);
        SSLContext ssl = SSLContext.getInstance("TLS");
        ssl.init(null, tmf.getTrustManagers(), null);
        trustingClient = HttpClient.newBuilder().sslContext(ssl).build();
    }

    @AfterEach
    void deleteCertificate() {
        certificate.delete();
    }

    private String tlsToml() {
        return "[server]\ntls_cert = \"" + certificate.certificate().getPath().replace("\\", "/") + "\"\n"
                + "tls_key = \"" + certificate.privateKey().getPath().replace("\\", "/") + "\"\n";
    }

    @Test
    void withACertificateConfiguredClientsConnectOverWssAndAuthenticateWithTheWssUrl() throws Exception {
        NostrKey agent = NostrKey.generate();
        try (TestRelay relay = TestRelay.start(dir, tlsToml());
             RelayClient c = RelayClient.connect("wss://localhost:" + relay.port(), trustingClient)) {
            Event auth = agent.sign(Kinds.AUTH, List.of(List.of("relay", "wss://127.0.0.1:" + relay.port()),
                    List.of("challenge", c.challenge())), "");
            c.send("[\"AUTH\"," + auth.json() + "]");
            assertTrue(c.ok(auth.id()).get(2).asBoolean(), "the default public URL is wss:// when the relay has TLS");
            Event note = agent.sign(1, "over tls");
            assertTrue(c.publishAndWait(note).get(2).asBoolean());
            c.send("[\"REQ\",\"s\",{\"ids\":[\"" + note.id() + "\"]}]");
            assertEquals(note.id(), c.next(m -> m.get(0).asText().equals("EVENT"), 5000).get(2).get("id").asText());
        }
    }

    @Test
    void nip11IsServedOverHttpsOnTheSamePort() throws Exception {
        try (TestRelay relay = TestRelay.start(dir, tlsToml())) {
            HttpResponse<String> res = trustingClient.send(HttpRequest.newBuilder(URI.create("https://localhost:" + relay.port() + "/"))
                    .header("Accept", "application/nostr+json").GET().build(), HttpResponse.BodyHandlers.ofString());
            assertEquals(200, res.statusCode());
            assertEquals("application/nostr+json", res.headers().firstValue("content-type").orElse(""));
            assertTrue(res.body().contains("\"supported_nips\""), res.body());
        }
    }

    @Test
    void plainBytesToTheTlsPortAreCountedNotLoggedOneLineEach() throws Exception {
        ch.qos.logback.classic.Logger handlerLog = (ch.qos.logback.classic.Logger) org.slf4j.LoggerFactory.getLogger(RelayFrameHandler.class);
        ch.qos.logback.core.read.ListAppender<ch.qos.logback.classic.spi.ILoggingEvent> lines = new ch.qos.logback.core.read.ListAppender<>();
        lines.start();
        handlerLog.addAppender(lines);
        try (TestRelay relay = TestRelay.start(dir, tlsToml())) {
            for (int i = 0; i < 5; i++) {
                try (java.net.Socket s = new java.net.Socket("127.0.0.1", relay.port())) {
                    s.getOutputStream().write("GET / HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(java.nio.charset.StandardCharsets.US_ASCII));
                    s.getOutputStream().flush();
                    s.setSoTimeout(5000);
                    try {
                        while (s.getInputStream().read() >= 0) { /* until the relay closes it */ }
                    } catch (java.io.IOException reset) {
                        // closed with bytes unread: a reset
                    }
                }
            }
            long deadline = System.currentTimeMillis() + 5000;
            while (relay.server().connectionsClosed(ConnectionCloses.Reason.ERROR) < 5 && System.currentTimeMillis() < deadline) Thread.sleep(20);
            assertEquals(5, relay.server().connectionsClosed(ConnectionCloses.Reason.ERROR), "each counted as a connection error");
            assertEquals(java.util.List.of(), lines.list.stream().filter(e -> e.getLevel().isGreaterOrEqual(ch.qos.logback.classic.Level.INFO))
                    .map(ch.qos.logback.classic.spi.ILoggingEvent::getFormattedMessage).toList(), "a client's plain bytes are not a warning each");
        } finally {
            handlerLog.detachAppender(lines);
        }
    }

    @Test
    void aKeyThatIsNotAKeyStopsTheRelayBeforeItStartsNamingTheKeys() throws Exception {
        Path notAKey = dir.resolve("key.pem");
        Files.writeString(notAKey, "not a key\n");
        NexusConfig config = NexusConfig.parse("[server]\nbind = \"127.0.0.1:0\"\ntls_cert = \""
                + certificate.certificate().getPath().replace("\\", "/") + "\"\ntls_key = \"" + notAKey.toString().replace("\\", "/")
                + "\"\n[storage]\npath = \"" + dir.resolve("nexus.db").toString().replace("\\", "/") + "\"\n");
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> new NexusServer(config, "test").start());
        assertTrue(e.getMessage().contains("tls_key"), e.getMessage());
        assertTrue(!Files.exists(dir.resolve("nexus.db")), "nothing is opened when TLS cannot be set up");
    }
}
