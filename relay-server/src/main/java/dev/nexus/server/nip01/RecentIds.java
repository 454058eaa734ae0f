package dev.nexus.server.nip01;

import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Ids of events recently stored, so that a re-sent event is answered "duplicate:" without
 * paying for its signature check. Two generations bound the memory: when the current one
 * fills, it becomes the previous one and the oldest is dropped. The store stays the authority.
 */
public final class RecentIds {
    private final int generationSize;
    private volatile Set<String> current = ConcurrentHashMap.newKeySet();
    private volatile Set<String> previous = ConcurrentHashMap.newKeySet();

    public RecentIds(int generationSize) {
        this.generationSize = generationSize;
    }

    public boolean contains(String id) {
        return current.contains(id) || previous.contains(id);
    }

    public void add(String id) {
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

    public void remove(String id) {
        current.remove(id);
        previous.remove(id);
    }
}
