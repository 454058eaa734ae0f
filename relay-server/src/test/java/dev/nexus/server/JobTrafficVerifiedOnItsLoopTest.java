package dev.nexus.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.nexus.config.NexusConfig;
import dev.nexus.core.Event;
import dev.nexus.core.SignatureVerifier;
import dev.nexus.core.SignatureVerifiers;
import dev.nexus.core.testing.NostrKey;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Job traffic first, at the signature check: a NIP-90 job is verified on the event loop that read
 * it, so it is stored and answered even while every signature-check thread is busy with ordinary
 * events (here: held until the test lets them go). A real server, real sockets, real signatures.
 */
class JobTrafficVerifiedOnItsLoopTest {
    @TempDir Path dir;
    private final NostrKey customer = NostrKey.generate();
    private final NostrKey poster = NostrKey.generate();

    private final CountDownLatch verifiersHeld = new CountDownLatch(2), release = new CountDownLatch(1);

    /** The real check, except that on the verifier pool's threads it first waits until the test releases them. */
    private SignatureVerifier holdingTheVerifierThreads() {
        SignatureVerifier real = SignatureVerifiers.best();
        return new SignatureVerifier() {
            @Override
            public boolean verify(byte[] pubkey32, byte[] message32, byte[] signature64) {
                if (Thread.currentThread().getName().startsWith("nexus-verify")) {
                    verifiersHeld.countDown();
                    try {
                        release.await(30, TimeUnit.SECONDS);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                }
                return real.verify(pubkey32, message32, signature64);
            }

            @Override
            public String name() {
                return "holding " + real.name();
            }
        };
    }

    private NexusServer startServer() throws Exception {
        NexusConfig config = NexusConfig.parse("[server]\nbind = \"127.0.0.1:0\"\nverifier_threads = 2\n[auth]\nrequired = false\n"
                + "[storage]\npath = \"" + dir.resolve("relay.db").toString().replace("\\", "/") + "\"\n");
        return NexusServer.builder(config).version("test").verifier(holdingTheVerifierThreads()).build().start();
    }

    @Test
    void aJobIsAcceptedWhileEveryVerifierThreadIsBusyWithOrdinaryEvents() throws Exception {
        try (NexusServer server = startServer();
             RelayClient social = RelayClient.connect("ws://127.0.0.1:" + server.port());
             RelayClient agent = RelayClient.connect("ws://127.0.0.1:" + server.port())) {
            Event first = poster.sign(1, "a note"), second = poster.sign(1, "another note");
            social.publish(first);
            social.publish(second);
            assertTrue(verifiersHeld.await(10, TimeUnit.SECONDS), "both verifier threads are busy with the notes");

            Event job = customer.sign(5050, List.of(List.of("i", "summarise this", "text")), "");
            JsonNode jobOk = agent.publishAndWait(job);
            assertNotNull(jobOk, "the job was answered while the verifiers were held");
            assertTrue(jobOk.get(2).asBoolean(), jobOk.toString());
            assertNull(social.next(m -> m.get(0).asText().equals("OK"), 200), "the notes are still waiting for a verifier");

            release.countDown();
            for (Event note : List.of(first, second)) assertTrue(social.ok(note.id()).get(2).asBoolean());
            assertEquals(List.of(job.id()), agent.queryIds("jobs", "{\"kinds\":[5050]}"), "the job is stored");
        } finally {
            release.countDown();
        }
    }

    @Test
    void afterABadSignatureAConnectionsJobsWaitForTheVerifiersLikeEverythingElse() throws Exception {
        try (NexusServer server = startServer();
             RelayClient social = RelayClient.connect("ws://127.0.0.1:" + server.port());
             RelayClient agent = RelayClient.connect("ws://127.0.0.1:" + server.port())) {
            Event forged = customer.sign(5050, List.of(List.of("i", "forged", "text")), "");
            String frame = NostrKey.eventMessage(forged);
            String sig = forged.sig();
            String badSig = sig.substring(0, 127) + (sig.charAt(127) == '0' ? '1' : '0');
            agent.send(frame.replace(sig, badSig));
            JsonNode refused = agent.ok(forged.id());
            assertNotNull(refused, "the forged job was answered (checked on the loop: the verifiers are free yet)");
            assertEquals("invalid: bad signature", refused.get(3).asText());

            Event first = poster.sign(1, "a note"), second = poster.sign(1, "another note");
            social.publish(first);
            social.publish(second);
            assertTrue(verifiersHeld.await(10, TimeUnit.SECONDS), "both verifier threads are busy with the notes");
            Event job = customer.sign(5050, List.of(List.of("i", "summarise this", "text")), "");
            agent.publish(job);
            assertNull(agent.ok(job.id(), 500), "this connection's next job waits for a verifier, ahead of the queue but not on its loop");

            release.countDown();
            assertTrue(agent.ok(job.id()).get(2).asBoolean(), "checked by a verifier once one was free, and stored");
        } finally {
            release.countDown();
        }
    }
}
