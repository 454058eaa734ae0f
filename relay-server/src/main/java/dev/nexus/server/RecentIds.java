package dev.nexus.server;

import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Ids of events recently stored, so that a re-sent event is answered "duplicate:" without
 * paying for its signature check. Two generations bound the memory: when the current one
 * fills, it becomes the previous one and the oldest is dropped. The store stays the authority.
 */
final class RecentIds {
    private final int generationSize;
    private volatile Set<String> current = ConcurrentHashMap.newKeySet();
    private volatile Set<String> previous = ConcurrentHashMap.newKeySet();

    RecentIds(int generationSize) {
        this.generationSize = generationSize;
    }

    boolean contains(String id) {
        return current.contains(id) || previous.contains(id);
    }

    void add(String id) {
        Set<String> cur = current;
        cur.add(id);
        if (cur.size() >= generationSize) {
            synchronized (this) {
                if (current == cur) {
                    previous = cur;
                    current = ConcurrentHashMap.newKeySet();
                }
            }
        }
    }

    void remove(String id) {
        current.remove(id);
        previous.remove(id);
    }
}
