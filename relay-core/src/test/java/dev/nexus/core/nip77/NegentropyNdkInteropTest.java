package dev.nexus.core.nip77;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.util.HashSet;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * Interop with an engine nobody here wrote: NDK's NIP-77 implementation (npm
 * {@code @nostr-dev-kit/sync}, a port of the reference JavaScript), in node. Each side plays
 * initiator and responder; the initiator must learn exactly the naive set differences.
 */
class NegentropyNdkInteropTest {

    @Test
    void ourInitiatorReconcilesWithTheirResponder() throws Exception {
        Random random = new Random(31);
        for (int round = 0; round < 6; round++) {
            TwoSets sets = round % 3 == 2
                    ? TwoSets.clustered(random, 300, 50, 1, 1, 3)
                    : TwoSets.random(random, 1_000 + random.nextInt(20_000), 1, 1 + round % 2, 20);
            long ourLimit = round % 2 == 0 ? 0 : 4096 + random.nextInt(40_000);
            try (NodeHarness theirs = new NodeHarness(0)) {
                theirs.load(sets.second);
                Session s = Session.run(new Negentropy(TwoSets.storage(sets.first), ourLimit), message -> {
                    try {
                        return theirs.message(message).message();
                    } catch (Exception e) {
                        throw new AssertionError(e);
                    }
                }, 1_000);
                assertEquals(TwoSets.minus(sets.first, sets.second), new HashSet<>(s.have), "round " + round + ": have");
                assertEquals(TwoSets.minus(sets.second, sets.first), new HashSet<>(s.need), "round " + round + ": need");
            }
        }
    }

    @Test
    void theirInitiatorReconcilesWithOurResponder() throws Exception {
        Random random = new Random(32);
        for (int round = 0; round < 6; round++) {
            TwoSets sets = round % 3 == 2
                    ? TwoSets.clustered(random, 300, 50, 1, 1, 3)
                    : TwoSets.random(random, 1_000 + random.nextInt(20_000), 1 + round % 2, 1, 20);
            long theirLimit = round % 2 == 0 ? 0 : 4096 + random.nextInt(40_000);
            long ourLimit = round % 2 == 0 ? 0 : 4096 + random.nextInt(40_000);
            Negentropy ours = new Negentropy(TwoSets.storage(sets.second), ourLimit);
            Set<ByteBuffer> have = new HashSet<>(), need = new HashSet<>();
            int roundTrips = 0;
            try (NodeHarness theirs = new NodeHarness(theirLimit)) {
                theirs.load(sets.first);
                byte[] message = theirs.initiate();
                while (message != null) {
                    assertTrue(++roundTrips < 1_000, "no convergence");
                    if (ourLimit != 0) assertTrue(message.length <= theirLimit || theirLimit == 0);
                    byte[] reply = ours.respond(message);
                    if (ourLimit != 0) assertTrue(reply.length <= ourLimit, "our frame exceeds our limit");
                    NodeHarness.Reply r = theirs.message(reply);
                    r.have().forEach(id -> have.add(ByteBuffer.wrap(id)));
                    r.need().forEach(id -> need.add(ByteBuffer.wrap(id)));
                    message = r.message();
                }
            }
            assertEquals(TwoSets.minus(sets.first, sets.second), have, "round " + round + ": have");
            assertEquals(TwoSets.minus(sets.second, sets.first), need, "round " + round + ": need");
        }
    }
}
