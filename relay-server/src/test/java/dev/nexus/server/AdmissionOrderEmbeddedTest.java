package dev.nexus.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.nexus.config.NexusConfig;
import dev.nexus.core.Event;
import dev.nexus.core.SignatureVerifier;
import dev.nexus.core.SignatureVerifiers;
import dev.nexus.core.testing.NostrKey;
import dev.nexus.server.metrics.RelayMetrics;
import dev.nexus.server.nip01.SubscriptionIndex;
import dev.nexus.server.policy.AccessControl;
import dev.nexus.server.policy.Policies;
import dev.nexus.storage.LocalLiveFeed;
import dev.nexus.storage.RetentionPolicy;
import dev.nexus.storage.SqliteEventStore;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.websocketx.TextWebSocketFrame;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The protocol without sockets: the dispatcher, its handlers and the policy chain on a Netty
 * EmbeddedChannel, with the relay's clock fixed. Admission refusals are answered synchronously on
 * the channel, so the order of the rules can be read frame by frame. The verifier is held at a
 * gate so that nothing is written to the channel from another thread while the test reads it.
 */
class AdmissionOrderEmbeddedTest {
    private static final long NOW = 1_700_000_000L;
    @TempDir Path dir;
    private final NostrKey alice = NostrKey.generate();
    private final NostrKey denied = NostrKey.generate();
    private final CountDownLatch verifierGate = new CountDownLatch(1);
    private SqliteEventStore store;
    private LocalLiveFeed feed;
    private TwoLaneExecutor verifiers;
    private ExecutorService queries;
    private MessageDispatcher dispatcher;
    private EmbeddedChannel channel;
    private Session session;

    @BeforeEach
    void setUp() throws Exception {
        NexusConfig config = NexusConfig.parse("[auth]\nrequired = \"writes\"\ndenied_pubkeys = [\"" + denied.pubkey() + "\"]\n"
                + "[limits]\nallowed_kinds = [1]\n[rate_limits]\nexempt_ips = []\nevents_per_second = 0.001\nevents_burst = 1\n");
        store = new SqliteEventStore(dir.resolve("e.db"), "normal", 1, 16, RetentionPolicy.DEFAULT);
        feed = new LocalLiveFeed(16);
        SignatureVerifier real = SignatureVerifiers.best();
        SignatureVerifier gated = new SignatureVerifier() {
            @Override
            public boolean verify(byte[] pubkey32, byte[] message32, byte[] signature64) {
                try {
                    verifierGate.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                return real.verify(pubkey32, message32, signature64);
            }

            @Override
            public String name() {
                return "gated";
            }
        };
        verifiers = new TwoLaneExecutor("test-verify", 1);
        queries = Executors.newSingleThreadExecutor();
        RateLimiter limiter = new RateLimiter(config.rateLimits());
        AccessControl access = AccessControl.fromConfig(config);
        RelayMetrics metrics = new RelayMetrics(config.metrics(), config.marketplace().kinds());
        dispatcher = new MessageDispatcher(config, store, feed, gated, verifiers, queries, new SubscriptionIndex(1000, 100_000),
                Policies.fromConfig(config, access, limiter, () -> NOW), access, () -> NOW, metrics);
        feed.start(dispatcher::onCommitted);
        channel = new EmbeddedChannel();
        session = new Session(channel, "203.0.113.9", "challenge", 1 << 20, metrics);
        channel.attr(Session.KEY).set(session);
    }

    @AfterEach
    void tearDown() {
        // Closed first, so that the held event's late OK (from the writer thread) is not written to it.
        channel.finishAndReleaseAll();
        verifierGate.countDown();
        verifiers.shutdown(5, TimeUnit.SECONDS);
        queries.shutdownNow();
        feed.close();
        store.close();
    }

    private String okFor(Event e) throws Exception {
        byte[] frame = NostrKey.eventMessage(e).getBytes(StandardCharsets.UTF_8);
        dispatcher.onText(session, frame, 0, frame.length);
        TextWebSocketFrame out = channel.readOutbound();
        if (out == null) return null;
        try {
            JsonNode ok = RelayClient.JSON.readTree(out.text());
            assertEquals("OK", ok.get(0).asText());
            assertEquals(e.id(), ok.get(1).asText());
            return ok.get(3).asText();
        } finally {
            out.release();
        }
    }

    @Test
    void rulesRefuseInTheirOrderAndOnlyAnAdmittedEventSpendsTheBudget() throws Exception {
        // Unauthenticated: auth comes before the deny list, the kind list and the clock.
        assertTrue(okFor(denied.sign(30023, List.of(), "x", NOW + 100_000)).startsWith("auth-required:"));
        session.markAuthenticated(alice.pubkey());
        // Authenticated: the deny list before the allowed kinds, the allowed kinds before created_at and NIP-40.
        assertTrue(okFor(denied.sign(30023, List.of(), "x", NOW + 100_000)).startsWith("blocked: this pubkey"));
        assertEquals("blocked: this relay does not accept kind 30023 events", okFor(alice.sign(30023, List.of(), "x", NOW + 100_000)));
        assertEquals("invalid: created_at is too far in the future", okFor(alice.sign(1, List.of(), "x", NOW + 100_000)));
        assertEquals("invalid: event has already expired (NIP-40)",
                okFor(alice.sign(1, List.of(List.of("expiration", Long.toString(NOW - 1))), "x", NOW - 10)));
        // None of those spent the single token: this one passes admission and waits at the verifier...
        assertNull(okFor(alice.sign(1, List.of(), "first", NOW)), "admitted: no synchronous answer");
        // ...and the budget, last in the chain, refuses the next.
        assertEquals("rate-limited: slow down, too many events from your address", okFor(alice.sign(1, List.of(), "second", NOW)));
    }
}
