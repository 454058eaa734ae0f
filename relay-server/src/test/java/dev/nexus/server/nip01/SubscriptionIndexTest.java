package dev.nexus.server.nip01;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.nexus.core.Event;
import dev.nexus.core.Filter;
import dev.nexus.core.testing.NostrKey;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** NIP-01: a live event goes to each matching subscription once, whichever keys it was filed under. */
class SubscriptionIndexTest {
    private static final NostrKey AUTHOR = NostrKey.generate();
    private static final String X = NostrKey.generate().pubkey();
    private static final String Y = NostrKey.generate().pubkey();

    private final SubscriptionIndex index = new SubscriptionIndex(1000, 100_000);

    private static Filter kinds(int... kinds) {
        Set<Integer> set = new java.util.HashSet<>();
        for (int k : kinds) set.add(k);
        return new Filter(null, null, set, null, null, null, null);
    }

    private static Filter tag(String name, String... values) {
        return new Filter(null, null, null, Map.of(name, Set.of(values)), null, null, null);
    }

    private Subscription subscribe(String id, Filter... filters) {
        Subscription sub = new Subscription(null, id, List.of(filters));
        index.tryAdd(sub);
        return sub;
    }

    private List<String> matched(Event e) {
        List<String> ids = new ArrayList<>();
        index.forEachMatch(e, sub -> ids.add(sub.id()));
        ids.sort(null);
        return ids;
    }

    @Test
    void anEventWithARepeatedTagReachesATagSubscriptionOnce() {
        subscribe("p", tag("p", X));
        Event e = AUTHOR.sign(5050, List.of(List.of("p", X), List.of("p", X)), "");
        assertEquals(List.of("p"), matched(e));
    }

    @Test
    void anEventCarryingTwoOfAFiltersTagValuesReachesItOnce() {
        subscribe("both", tag("p", X, Y));
        Event e = AUTHOR.sign(5050, List.of(List.of("p", X), List.of("p", Y)), "");
        assertEquals(List.of("both"), matched(e));
    }

    @Test
    void aSubscriptionWhoseFiltersBothMatchReceivesTheEventOnce() {
        subscribe("two-filters", kinds(5050), tag("p", X));
        subscribe("authors", new Filter(null, Set.of(AUTHOR.pubkey(), X), null, null, null, null, null));
        Event e = AUTHOR.sign(5050, List.of(List.of("p", X)), "");
        assertEquals(List.of("authors", "two-filters"), matched(e));
    }

    @Test
    void subscriptionsUnderDifferentKeysEachReceiveTheEvent() {
        subscribe("kind", kinds(1, 5050));
        subscribe("tag", new Filter(null, null, Set.of(5050), Map.of("p", Set.of(X)), null, null, null));
        subscribe("other-tag", tag("p", Y));
        subscribe("all", new Filter(null, null, null, null, null, null, null));
        Event e = AUTHOR.sign(5050, List.of(List.of("p", X), List.of("e", X)), "");
        assertEquals(List.of("all", "kind", "tag"), matched(e));
    }

    @Test
    void anEventFoundThroughAFiltersTagMustStillMeetEveryOtherConstraint() {
        Map<String, Set<String>> tags = new java.util.LinkedHashMap<>();
        tags.put("p", Set.of(X));
        tags.put("e", Set.of(Y));
        subscribe("p-and-e", new Filter(null, null, Set.of(5050), tags, 100L, null, null));
        assertEquals(List.of("p-and-e"), matched(AUTHOR.sign(5050, List.of(List.of("p", X), List.of("e", Y)), "", 200)));
        assertEquals(List.of(), matched(AUTHOR.sign(5050, List.of(List.of("p", X), List.of("e", X)), "", 200)), "the second tag is not met");
        assertEquals(List.of(), matched(AUTHOR.sign(5051, List.of(List.of("p", X), List.of("e", Y)), "", 200)), "the kind is not met");
        assertEquals(List.of(), matched(AUTHOR.sign(5050, List.of(List.of("p", X), List.of("e", Y)), "", 50)), "since is not met");
    }

    @Test
    void aTagKeyThatOnlyLooksTheSameDoesNotMatch() {
        // "p:" + ":" + "v" and "p" + ":" + ":v" make the same key; only the full check tells them apart.
        subscribe("odd-name", new Filter(null, null, null, Map.of("p:", Set.of("v")), null, null, null));
        assertEquals(List.of(), matched(AUTHOR.sign(1, List.of(List.of("p", ":v")), "")));
    }

    @Test
    void twoFiltersOnTheSameTagKeyAndAnEventRepeatingOneOfSeveralValuesStillDeliverOnce() {
        subscribe("same-key", tag("p", X), new Filter(null, null, Set.of(5050), Map.of("p", Set.of(X)), null, null, null));
        subscribe("several", tag("p", X, Y));
        subscribe("ids-and-tags", new Filter(null, null, null, Map.of("p", Set.of(X, Y)), null, null, null),
                new Filter(Set.of("00".repeat(32)), null, null, null, null, null, null));
        Event e = AUTHOR.sign(5050, List.of(List.of("p", X), List.of("p", Y), List.of("p", X)), "");
        assertEquals(List.of("ids-and-tags", "same-key", "several"), matched(e));
    }

    @Test
    void aSubscriptionFiledWhileAnotherUnderTheSameKeyIsRemovedStillReceivesEvents() throws Exception {
        // A removal that empties a key's set unlinks it; an add racing it must not land in the unlinked set.
        Event e = AUTHOR.sign(1, List.of(List.of("t", "race")), "");
        java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(2);
        try {
            for (int round = 0; round < 20_000; round++) {
                Subscription leaving = subscribe("leaving", tag("t", "race"));
                Subscription arriving = new Subscription(null, "arriving", List.of(tag("t", "race")));
                java.util.concurrent.CyclicBarrier start = new java.util.concurrent.CyclicBarrier(2);
                java.util.concurrent.Future<?> remove = pool.submit(() -> { start.await(); index.remove(leaving); return null; });
                java.util.concurrent.Future<?> add = pool.submit(() -> { start.await(); index.tryAdd(arriving); return null; });
                remove.get();
                add.get();
                assertEquals(List.of("arriving"), matched(e), "round " + round);
                index.remove(arriving);
            }
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void aKindFilterMatchesByValueWhateverTheKindsOrder() {
        subscribe("kinds", kinds(68001, 1, 5050, 30000));
        assertEquals(List.of("kinds"), matched(AUTHOR.sign(68001, "")));
        assertEquals(List.of("kinds"), matched(AUTHOR.sign(30000, List.of(List.of("d", "x")), "")));
        assertEquals(List.of(), matched(AUTHOR.sign(5051, "")));
    }
}
