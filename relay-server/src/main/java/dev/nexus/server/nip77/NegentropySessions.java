package dev.nexus.server.nip77;

import dev.nexus.core.nip77.Negentropy;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * One connection's open NIP-77 sessions, by subscription id (a namespace apart from REQ's). Touched
 * only on the connection's event loop; the work itself runs on the query workers, which hand their
 * results back to the loop, where a session that was closed or replaced meanwhile is recognised
 * by identity and its result dropped.
 */
public final class NegentropySessions {
    /** One NEG-OPEN: the responder once its item set is loaded, and whether a message is being worked on. */
    static final class Entry {
        final String subscriptionId;
        private Negentropy responder; // null while the item set is being loaded
        private boolean working = true;
        private volatile boolean closed;

        Entry(String subscriptionId) {
            this.subscriptionId = subscriptionId;
        }

        boolean closed() { return closed; }
        boolean working() { return working; }
        Negentropy responder() { return responder; }

        void startWork() { working = true; }

        void ready(Negentropy responder) {
            this.responder = responder;
            this.working = false;
        }

        void close() {
            closed = true;
            responder = null; // lets the item set go as soon as no worker holds it
        }
    }

    private final Map<String, Entry> open = new HashMap<>();

    int size() {
        return open.size();
    }

    Entry get(String subscriptionId) {
        return open.get(subscriptionId);
    }

    boolean isCurrent(Entry entry) {
        return !entry.closed() && open.get(entry.subscriptionId) == entry;
    }

    /** Opens a session under {@code subscriptionId}, closing any open one with that id first (NIP-77). */
    Entry open(String subscriptionId) {
        Entry entry = new Entry(subscriptionId);
        Entry replaced = open.put(subscriptionId, entry);
        if (replaced != null) replaced.close();
        return entry;
    }

    void close(String subscriptionId) {
        Entry entry = open.remove(subscriptionId);
        if (entry != null) entry.close();
    }

    void close(Entry entry) {
        if (open.get(entry.subscriptionId) == entry) open.remove(entry.subscriptionId);
        entry.close();
    }

    void closeAll() {
        List<Entry> all = new ArrayList<>(open.values());
        open.clear();
        for (Entry e : all) e.close();
    }
}
