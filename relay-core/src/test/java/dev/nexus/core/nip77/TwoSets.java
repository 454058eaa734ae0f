package dev.nexus.core.nip77;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;

/**
 * Two random item sets, generated the way the reference fuzzer (hoytech/negentropy test/fuzz.pl)
 * does: each item goes to the first side only, the second only, or both, with given weights;
 * timestamps are drawn from a range as wide as the set (so many collide) or are consecutive runs
 * ("clustered") so that whole stretches differ.
 */
final class TwoSets {
    final List<Item> first = new ArrayList<>();
    final List<Item> second = new ArrayList<>();

    record Item(long timestamp, byte[] id) {
        ByteBuffer key() {
            return ByteBuffer.wrap(id);
        }
    }

    static TwoSets random(Random random, int count, int onlyFirst, int onlySecond, int both) {
        TwoSets sets = new TwoSets();
        int total = onlyFirst + onlySecond + both;
        for (int i = 0; i < count; i++) {
            Item item = new Item(1_677_970_534L + random.nextInt(Math.max(1, count)), randomId(random));
            sets.place(item, random.nextInt(total), onlyFirst, onlySecond);
        }
        return sets;
    }

    static TwoSets clustered(Random random, int segments, int maxPerSegment, int onlyFirst, int onlySecond, int both) {
        TwoSets sets = new TwoSets();
        int total = onlyFirst + onlySecond + both;
        long timestamp = 1_677_970_534L;
        for (int s = 0; s < segments; s++) {
            int placement = random.nextInt(total);
            int n = 1 + random.nextInt(maxPerSegment);
            for (int i = 0; i < n; i++) sets.place(new Item(timestamp++, randomId(random)), placement, onlyFirst, onlySecond);
        }
        return sets;
    }

    private void place(Item item, int roll, int onlyFirst, int onlySecond) {
        if (roll < onlyFirst) {
            first.add(item);
        } else if (roll < onlyFirst + onlySecond) {
            second.add(item);
        } else {
            first.add(item);
            second.add(item);
        }
    }

    static byte[] randomId(Random random) {
        byte[] id = new byte[Negentropy.ID_SIZE];
        random.nextBytes(id);
        return id;
    }

    static VectorStorage storage(List<Item> items) {
        VectorStorage.Builder builder = VectorStorage.builder();
        for (Item item : items) builder.add(item.timestamp(), item.id());
        return builder.build();
    }

    /** Ids of {@code a} that are not in {@code b}: what a naive reconciliation (send every id) finds. */
    static Set<ByteBuffer> minus(List<Item> a, List<Item> b) {
        Set<ByteBuffer> out = new HashSet<>();
        for (Item item : a) out.add(item.key());
        for (Item item : b) out.remove(item.key());
        return out;
    }
}
