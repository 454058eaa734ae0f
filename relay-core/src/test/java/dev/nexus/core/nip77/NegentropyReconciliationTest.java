package dev.nexus.core.nip77;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.nexus.core.Hex;
import java.nio.ByteBuffer;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * The engine against a naive reconciliation (compare the full id sets): for random pairs of sets,
 * the initiator must learn exactly the ids only it has and exactly the ids only the responder has.
 */
class NegentropyReconciliationTest {

    @Test
    void twoEmptySetsReconcileInOneRoundTripFindingNothing() {
        Session s = Session.run(new Negentropy(TwoSets.storage(List.of())), new Negentropy(TwoSets.storage(List.of())), 5);
        assertEquals(1, s.roundTrips);
        assertTrue(s.have.isEmpty() && s.need.isEmpty());
        assertEquals("6100000200", Hex.encode(s.upMessages.get(0))); // infinity bound, IdList, no ids
    }

    @Test
    void equalSetsAreSettledByTheFirstRoundOfFingerprints() {
        TwoSets sets = TwoSets.random(new Random(1), 20_000, 0, 0, 1);
        Session s = Session.run(new Negentropy(TwoSets.storage(sets.first)), new Negentropy(TwoSets.storage(sets.second)), 5);
        assertEquals(1, s.roundTrips);
        assertTrue(s.have.isEmpty() && s.need.isEmpty());
        assertEquals(1, s.downMessages.get(0).length, "the responder answers matching fingerprints with nothing but the version");
    }

    @Test
    void everyDifferenceIsFoundInBothDirectionsForRandomSets() {
        Random random = new Random(2026);
        for (int round = 0; round < 300; round++) {
            int count = random.nextInt(round < 100 ? 100 : 5_000);
            TwoSets sets = TwoSets.random(random, count, random.nextInt(4), random.nextInt(4), random.nextInt(40));
            if (random.nextBoolean()) sets = TwoSets.clustered(random, 1 + random.nextInt(100), 50, 1, 1, 1 + random.nextInt(20));
            assertReconciles(sets, 0, 0, "round " + round);
        }
    }

    @Test
    void everyDifferenceIsFoundWhenBothSidesLimitTheirFrameSize() {
        Random random = new Random(77);
        for (int round = 0; round < 40; round++) {
            TwoSets sets = round % 2 == 0
                    ? TwoSets.random(random, 5_000 + random.nextInt(30_000), 1 + random.nextInt(3), 1 + random.nextInt(3), random.nextInt(10))
                    : TwoSets.clustered(random, 200 + random.nextInt(800), 50, 1, 1, 1);
            long limit1 = 4096 + random.nextInt(60_000);
            long limit2 = 4096 + random.nextInt(60_000);
            Session s = assertReconciles(sets, limit1, limit2, "round " + round);
            for (byte[] m : s.upMessages) assertTrue(m.length <= limit1, "initiator frame " + m.length + " > " + limit1);
            for (byte[] m : s.downMessages) assertTrue(m.length <= limit2, "responder frame " + m.length + " > " + limit2);
        }
    }

    @Test
    void oneSideEmptyTransfersEveryIdAsHaveOrNeed() {
        TwoSets onlyFirst = TwoSets.random(new Random(3), 10_000, 1, 0, 0);
        Session up = assertReconciles(onlyFirst, 0, 0, "responder empty");
        assertEquals(onlyFirst.first.size(), up.have.size());
        TwoSets onlySecond = TwoSets.random(new Random(4), 10_000, 0, 1, 0);
        Session down = assertReconciles(onlySecond, 0, 0, "initiator empty");
        assertEquals(onlySecond.second.size(), down.need.size());
    }

    @Test
    void aResponderAnswersAnUnknownProtocolVersionWithTheVersionItSpeaks() {
        Negentropy responder = new Negentropy(VectorStorage.builder().add(12345, Hex.decode("ee".repeat(32))).build());
        assertEquals("61", Hex.encode(responder.respond(Hex.decode("62aabbccddeeff"))));
        // ... and then serves version 1 as usual: our only item, as an IdList for the whole range
        assertEquals("6100000201" + "ee".repeat(32), Hex.encode(responder.respond(Hex.decode("6100000200"))));
    }

    @Test
    void anInitiatorRefusesAReplyOfAnotherProtocolVersion() {
        Negentropy initiator = new Negentropy(TwoSets.storage(List.of()));
        initiator.initiate();
        assertThrows(NegentropyException.class, () -> initiator.reconcile(Hex.decode("62")));
        assertThrows(NegentropyException.class, () -> initiator.reconcile(Hex.decode("10")));
    }

    @Test
    void theInitiatorIsDoneWhenItHasNothingLeftToAsk() {
        Negentropy initiator = new Negentropy(TwoSets.storage(List.of()));
        initiator.initiate();
        Negentropy.Reconciliation r = initiator.reconcile(Hex.decode("61"));
        assertNull(r.nextMessage());
        assertTrue(r.done());
    }

    @Test
    void malformedMessagesAreRefusedWithANegentropyExceptionAndNothingElse() {
        TwoSets sets = TwoSets.random(new Random(5), 2_000, 1, 1, 10);
        VectorStorage storage = TwoSets.storage(sets.second);
        byte[] valid = new Negentropy(TwoSets.storage(sets.first)).initiate();
        Random random = new Random(6);
        int refused = 0;
        for (int i = 0; i < 2_000; i++) {
            byte[] bad = valid.clone();
            if (i % 3 == 0) bad = java.util.Arrays.copyOf(bad, 1 + random.nextInt(bad.length)); // truncated
            for (int flips = random.nextInt(4); flips >= 0; flips--) bad[random.nextInt(bad.length)] = (byte) random.nextInt(256);
            try {
                new Negentropy(storage).respond(bad);
            } catch (NegentropyException e) {
                refused++;
            }
        }
        assertTrue(refused > 0, "some corrupted messages must be refused");
        assertThrows(NegentropyException.class, () -> new Negentropy(storage).respond(new byte[0]));
        assertThrows(NegentropyException.class, () -> new Negentropy(storage).respond(Hex.decode("610021" + "00".repeat(33) + "00")));
        assertThrows(NegentropyException.class, () -> new Negentropy(storage).respond(Hex.decode("61000003")));
        assertThrows(NegentropyException.class, () -> new Negentropy(storage).respond(Hex.decode("6100000205" + "00".repeat(64))));
    }

    @Test
    void aFrameSizeLimitBelow4096BytesIsRefused() {
        assertThrows(IllegalArgumentException.class, () -> new Negentropy(TwoSets.storage(List.of()), 4095));
    }

    static Session assertReconciles(TwoSets sets, long initiatorLimit, long responderLimit, String label) {
        Negentropy initiator = new Negentropy(TwoSets.storage(sets.first), initiatorLimit);
        Negentropy responder = new Negentropy(TwoSets.storage(sets.second), responderLimit);
        Session s = Session.run(initiator, responder, 1_000);
        Set<ByteBuffer> expectedHave = TwoSets.minus(sets.first, sets.second);
        Set<ByteBuffer> expectedNeed = TwoSets.minus(sets.second, sets.first);
        assertEquals(expectedHave, new HashSet<>(s.have), label + ": have");
        assertEquals(expectedNeed, new HashSet<>(s.need), label + ": need");
        if (initiatorLimit == 0 && responderLimit == 0) {
            assertEquals(s.have.size(), new HashSet<>(s.have).size(), label + ": an id reported twice");
            assertEquals(s.need.size(), new HashSet<>(s.need).size(), label + ": an id reported twice");
        }
        return s;
    }
}
