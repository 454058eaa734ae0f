package dev.nexus.server.nip01;

import dev.nexus.core.Event;
import dev.nexus.core.Filter;
import dev.nexus.server.Session;
import dev.nexus.storage.StoredEvent;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * One REQ's live side. Events that match before its stored results have been sent wait in
 * {@link #pending} so that the client sees stored events, EOSE, then live ones, without gaps.
 * Mutable state is touched only on the session's event loop.
 */
public final class Subscription {
    private final Session session;
    private final String id;
    private final List<Filter> filters;
    private final byte[] eventPrefix;
    private boolean storedSent;
    private List<Event> pending;
    private List<StoredEvent> stored;
    /** Set by the session when the subscription leaves it (CLOSE, replacement, disconnect); read by query workers too. */
    private volatile boolean cancelled;
    /** Set by {@link SubscriptionIndex} before it files this subscription (the index's maps publish it). */
    private boolean mayMeetAnEventTwice;
    /** Set by {@link SubscriptionIndex}: one filter, filed under its first tag constraint's values. */
    private boolean filedUnderItsTag;

    public Subscription(Session session, String id, List<Filter> filters) {
        this.session = session;
        this.id = id;
        this.filters = List.copyOf(filters);
        this.eventPrefix = dev.nexus.core.RelayMessages.eventPrefix(id).getBytes(java.nio.charset.StandardCharsets.UTF_8);
    }

    public Session session() { return session; }
    public String id() { return id; }
    public List<Filter> filters() { return filters; }
    /** {@code ["EVENT","<id>",} in UTF-8, made once: every delivery to this subscription starts with it. */
    public byte[] eventPrefix() { return eventPrefix; }

    public boolean matches(Event e) {
        for (Filter f : filters) if (f.matches(e)) return true;
        return false;
    }

    boolean mayMeetAnEventTwice() { return mayMeetAnEventTwice; }
    void mayMeetAnEventTwice(boolean twice) { this.mayMeetAnEventTwice = twice; }
    boolean filedUnderItsTag() { return filedUnderItsTag; }
    void filedUnderItsTag(boolean filed) { this.filedUnderItsTag = filed; }

    public boolean storedSent() { return storedSent; }

    public void cancel() { cancelled = true; }
    public boolean cancelled() { return cancelled; }

    /** The stored events being sent before EOSE; live events held meanwhile that are among them are not sent twice. */
    public void rememberStored(List<StoredEvent> events) { this.stored = events; }

    /** Holds a live event until EOSE; returns false when the backlog is over {@code max}. */
    public boolean holdUntilEose(Event e, int max) {
        if (pending == null) pending = new ArrayList<>();
        if (pending.size() >= max) return false;
        pending.add(e);
        return true;
    }

    /** Marks EOSE as sent and returns the held live events not already sent as stored ones. */
    public List<Event> releaseAfterEose() {
        storedSent = true;
        List<Event> out = new ArrayList<>();
        if (pending != null) {
            // Built only when live events were held: most queries end with none.
            Set<String> storedIds = new HashSet<>();
            if (stored != null) for (StoredEvent ev : stored) storedIds.add(ev.id());
            for (Event e : pending) if (!storedIds.contains(e.id())) out.add(e);
        }
        pending = null;
        stored = null;
        return out;
    }
}
