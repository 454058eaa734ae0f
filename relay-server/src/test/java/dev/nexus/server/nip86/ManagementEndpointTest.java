package dev.nexus.server.nip86;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.nexus.core.Event;
import dev.nexus.core.SignatureVerifiers;
import dev.nexus.core.testing.NostrKey;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** Management calls wait for one thread; how many may wait is bounded, whoever sends them. */
class ManagementEndpointTest {
    @Test
    void callsPastTheQueueBoundAreRefusedAtOnceInsteadOfQueued() throws Exception {
        CountDownLatch stall = new CountDownLatch(1);
        CountDownLatch firstStarted = new CountDownLatch(1);
        Nip98Authorization authorization = new Nip98Authorization(Set.of(), url -> {
            firstStarted.countDown();
            try {
                stall.await(10, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            return false;
        }, SignatureVerifiers.best(), () -> System.currentTimeMillis() / 1000);
        byte[] body = "{\"method\":\"supportedmethods\",\"params\":[]}".getBytes(StandardCharsets.UTF_8);
        Event token = NostrKey.generate().sign(27235, List.of(List.of("u", "http://127.0.0.1/"), List.of("method", "POST"),
                List.of("payload", Nip98Authorization.sha256Hex(body))), "");
        String header = "Nostr " + Base64.getEncoder().encodeToString(token.json().getBytes(StandardCharsets.UTF_8));
        ConcurrentLinkedQueue<Integer> statuses = new ConcurrentLinkedQueue<>();
        try (ManagementEndpoint endpoint = new ManagementEndpoint(authorization, null)) {
            endpoint.handle(header, body, r -> statuses.add(r.status()));
            assertTrue(firstStarted.await(5, TimeUnit.SECONDS));
            for (int i = 0; i < ManagementEndpoint.MAX_QUEUED_CALLS; i++) endpoint.handle(header, body, r -> statuses.add(r.status()));
            List<Integer> overflow = new ArrayList<>();
            for (int i = 0; i < 100; i++) endpoint.handle(header, body, r -> overflow.add(r.status()));
            assertEquals(100, overflow.size(), "calls past the bound are answered at once, on the caller's thread");
            assertTrue(overflow.stream().allMatch(s -> s == 503), overflow.toString());
            assertTrue(statuses.isEmpty(), "the queued calls wait for the stalled one: " + statuses);
            stall.countDown();
            for (int i = 0; i < 200 && statuses.size() < 1 + ManagementEndpoint.MAX_QUEUED_CALLS; i++) Thread.sleep(25);
            assertEquals(1 + ManagementEndpoint.MAX_QUEUED_CALLS, statuses.size());
            assertTrue(statuses.stream().allMatch(s -> s == 401), "the queued calls are answered in turn: " + statuses);
        }
    }
}
