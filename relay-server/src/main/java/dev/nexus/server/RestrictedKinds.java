package dev.nexus.server;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import dev.nexus.core.Event;
import dev.nexus.core.Filter;
import dev.nexus.core.KindRanges;
import dev.nexus.core.MarketplaceKinds;
import java.io.IOException;
import java.util.List;
import java.util.Set;

/**
 * The read rule for private traffic: events of {@code [auth] restricted_kinds} (NIP-04 DMs, NIP-59
 * gift wraps) and, with {@code restrict_encrypted_jobs}, NIP-90 requests, results and feedback
 * carrying an {@code encrypted} tag are served (stored results, live events) only to a connection
 * authenticated as the event's author or as one of its {@code p}-tagged recipients.
 */
public final class RestrictedKinds {
    private static final JsonFactory JSON = new JsonFactory();

    private final Set<Integer> kinds;
    private final boolean encryptedJobs;
    private final MarketplaceKinds marketplace;

    private final KindRanges open;

    /**
     * {@code open} ({@code [auth] open_kinds}) are never restricted: the operator chose to let clients
     * that cannot authenticate read them.
     */
    public RestrictedKinds(Set<Integer> kinds, boolean encryptedJobs, MarketplaceKinds marketplace, KindRanges open) {
        Set<Integer> effective = new java.util.HashSet<>(kinds);
        effective.removeIf(open::contains);
        this.kinds = Set.copyOf(effective);
        this.encryptedJobs = encryptedJobs;
        this.marketplace = marketplace;
        this.open = open;
    }

    /** No restriction at all: with {@code [auth] required = false} no client is expected to authenticate. */
    public static RestrictedKinds none(MarketplaceKinds marketplace) {
        return new RestrictedKinds(Set.of(), false, marketplace, KindRanges.NONE);
    }

    private boolean restricted(int kind, boolean encrypted) {
        if (open.contains(kind)) return false;
        return kinds.contains(kind) || (encryptedJobs && encrypted && marketplace.isJobTraffic(kind));
    }

    public boolean isRestricted(Event e) {
        return restricted(e.kind(), e.hasTag("encrypted"));
    }

    /** Whether a connection authenticated as {@code viewers} may receive {@code e}. */
    public boolean visibleTo(Set<String> viewers, Event e) {
        if (!isRestricted(e)) return true;
        if (viewers.contains(e.pubkey())) return true;
        for (List<String> tag : e.tags()) {
            if (tag.size() >= 2 && tag.get(0).equals("p") && viewers.contains(tag.get(1))) return true;
        }
        return false;
    }

    /** As {@link #visibleTo(Set, Event)} for a stored event's wire JSON (read without checking the id again). */
    public boolean visibleTo(Set<String> viewers, byte[] json) {
        int kind = -1;
        String pubkey = null;
        boolean encrypted = false, involved = false;
        try (JsonParser p = JSON.createParser(json)) {
            if (p.nextToken() != JsonToken.START_OBJECT) return false;
            while (p.nextToken() == JsonToken.FIELD_NAME) {
                String field = p.currentName();
                JsonToken t = p.nextToken();
                if (field.equals("kind") && t == JsonToken.VALUE_NUMBER_INT) kind = p.getIntValue();
                else if (field.equals("pubkey") && t == JsonToken.VALUE_STRING) pubkey = p.getText();
                else if (field.equals("tags") && t == JsonToken.START_ARRAY) {
                    while (p.nextToken() == JsonToken.START_ARRAY) {
                        String name = p.nextToken() == JsonToken.VALUE_STRING ? p.getText() : null;
                        JsonToken v = name == null ? p.currentToken() : p.nextToken();
                        if ("encrypted".equals(name)) encrypted = true;
                        if ("p".equals(name) && v == JsonToken.VALUE_STRING && viewers.contains(p.getText())) involved = true;
                        while (v != JsonToken.END_ARRAY && v != null) v = p.nextToken();
                    }
                } else {
                    p.skipChildren();
                }
            }
        } catch (IOException e) {
            return false; // what the relay stored itself is well-formed; unreadable means: do not serve
        }
        if (!restricted(kind, encrypted)) return true;
        return involved || (pubkey != null && viewers.contains(pubkey));
    }

    /** Whether some event this filter matches could be restricted. */
    public boolean mayMatchRestricted(Filter f) {
        if (f.kinds() == null) return !kinds.isEmpty() || encryptedJobs;
        for (int k : f.kinds()) if (kinds.contains(k) || (encryptedJobs && marketplace.isJobTraffic(k) && !open.contains(k))) return true;
        return false;
    }

    /** Whether every event this filter matches is of a restricted kind (so an unauthenticated reader can get nothing). */
    public boolean onlyRestricted(Filter f) {
        if (f.kinds() == null || f.kinds().isEmpty()) return false;
        for (int k : f.kinds()) if (!kinds.contains(k)) return false;
        return true;
    }

    /** Whether this filter is pinned to the viewer: every event it matches is by or p-tagged to one of {@code viewers}. */
    public static boolean pinnedTo(Set<String> viewers, Filter f) {
        if (f.authors() != null && !f.authors().isEmpty() && viewers.containsAll(f.authors())) return true;
        Set<String> p = f.tags().get("p");
        return p != null && !p.isEmpty() && viewers.containsAll(p);
    }

    /**
     * NIP-45 COUNT without counting others' private traffic: all matches, minus the matches of
     * restricted kinds, plus those of them the viewer is involved in (author or p-tagged). The
     * store counts distinct events across OR'd filters, so each part is one count.
     */
    public long visibleCount(List<Filter> filters, Set<String> viewers, java.util.function.ToLongFunction<List<Filter>> count) {
        long total = count.applyAsLong(filters);
        List<Filter> restrictedParts = new java.util.ArrayList<>();
        for (Filter f : filters) {
            Set<Integer> ks = new java.util.HashSet<>(kinds);
            if (f.kinds() != null) ks.retainAll(f.kinds());
            if (!ks.isEmpty() && !f.matchesNothing()) restrictedParts.add(new Filter(f.ids(), f.authors(), ks, f.tags(), f.since(), f.until(), null));
        }
        if (restrictedParts.isEmpty()) return total;
        List<Filter> visibleParts = new java.util.ArrayList<>();
        if (!viewers.isEmpty()) {
            for (Filter f : restrictedParts) {
                Set<String> authors = new java.util.HashSet<>(viewers);
                if (f.authors() != null) authors.retainAll(f.authors());
                if (!authors.isEmpty()) visibleParts.add(new Filter(f.ids(), authors, f.kinds(), f.tags(), f.since(), f.until(), null));
                Set<String> p = new java.util.HashSet<>(viewers);
                if (f.tags().get("p") != null) p.retainAll(f.tags().get("p"));
                if (!p.isEmpty()) {
                    java.util.Map<String, Set<String>> tags = new java.util.HashMap<>(f.tags());
                    tags.put("p", p);
                    visibleParts.add(new Filter(f.ids(), f.authors(), f.kinds(), tags, f.since(), f.until(), null));
                }
            }
        }
        return total - count.applyAsLong(restrictedParts) + (visibleParts.isEmpty() ? 0 : count.applyAsLong(visibleParts));
    }
}
