package dev.nexus.server.dashboard;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/** Results and feedback per provider pubkey, for at most {@code capacity} providers. Not thread-safe: the board locks. */
final class ProviderTally {
    private final int capacity;
    /** Per pubkey: [0] results, [1] feedback. */
    private final Map<String, long[]> counts = new HashMap<>();

    ProviderTally(int capacity) {
        this.capacity = capacity;
    }

    void result(String pubkey) {
        count(pubkey, 0);
    }

    void feedback(String pubkey) {
        count(pubkey, 1);
    }

    /** At capacity a newcomer replaces the provider with the least traffic. */
    private void count(String pubkey, int column) {
        long[] c = counts.get(pubkey);
        if (c == null) {
            if (counts.size() >= capacity) {
                String quietest = null;
                long least = Long.MAX_VALUE;
                for (Map.Entry<String, long[]> p : counts.entrySet()) {
                    long total = p.getValue()[0] + p.getValue()[1];
                    if (total < least) {
                        least = total;
                        quietest = p.getKey();
                    }
                }
                counts.remove(quietest);
            }
            c = new long[2];
            counts.put(pubkey, c);
        }
        c[column]++;
    }

    /** The {@code n} providers with the most results and feedback together, ties by pubkey. */
    List<MarketplaceBoard.Provider> busiest(int n) {
        List<MarketplaceBoard.Provider> all = new ArrayList<>();
        counts.forEach((pubkey, c) -> all.add(new MarketplaceBoard.Provider(pubkey, c[0], c[1])));
        all.sort(Comparator.comparingLong((MarketplaceBoard.Provider p) -> p.results() + p.feedback()).reversed()
                .thenComparing(MarketplaceBoard.Provider::pubkey));
        return all.subList(0, Math.min(n, all.size()));
    }
}
