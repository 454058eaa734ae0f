package dev.nexus.server.nip86;

import dev.nexus.server.IpAddresses;
import dev.nexus.server.policy.AccessControl;
import dev.nexus.storage.EventStore;
import dev.nexus.storage.Moderation;
import dev.nexus.storage.Moderation.Change;
import dev.nexus.storage.Moderation.Entry;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What the operator decided through NIP-86, held where the relay reads it at run time
 * ({@link AccessControl} for pubkeys and kinds, here for IPs, banned events and the relay's
 * name, description and icon) and recorded in the store so it survives restarts. Every change is
 * written to the store first, then applied; changes are serialized (one operator call at a time).
 */
public final class RelayModeration {
    private static final Logger log = LoggerFactory.getLogger(RelayModeration.class);
    static final String BANNED_PUBKEY = "banned_pubkey";
    static final String ALLOWED_PUBKEY = "allowed_pubkey";
    static final String ALLOWED_KIND = "allowed_kind";
    static final String DENIED_KIND = "denied_kind";
    static final String BLOCKED_IP = "blocked_ip";
    static final String RELAY_NAME = "relay_name";
    static final String RELAY_DESCRIPTION = "relay_description";
    static final String RELAY_ICON = "relay_icon";

    /** The relay's name, description and icon as NIP-11 shows them (null: as configured). */
    public record Identity(String name, String description, String icon) {}

    private final AccessControl access;
    private final EventStore store;
    private final Map<String, String> bannedPubkeys = new LinkedHashMap<>();
    private final Map<String, String> allowedPubkeys = new LinkedHashMap<>();
    private final Map<String, String> bannedEvents = new LinkedHashMap<>();
    private final Map<String, String> blockedIpReasons = new LinkedHashMap<>();
    /** Per kind (as stored, a decimal string), whether the last NIP-86 decision allowed or denied it. */
    private final Map<String, String> kindDecisions = new LinkedHashMap<>();
    private volatile Set<String> blockedIps = Set.of();
    private volatile Identity identity = new Identity(null, null, null);
    private volatile Consumer<Identity> onIdentityChanged = i -> { };
    private volatile Consumer<String> onIpBlocked = ip -> { };
    private volatile Consumer<String> onEventBanned = id -> { };
    private boolean warnedUnpersisted;
    private volatile boolean refreshFailing;

    /** Loads what the store recorded and applies it to {@code access}. */
    public RelayModeration(AccessControl access, EventStore store) {
        this.access = access;
        this.store = store;
        String name = null, description = null, icon = null;
        for (Entry e : store.moderation()) {
            String v = e.value();
            switch (e.category()) {
                case BANNED_PUBKEY -> { bannedPubkeys.put(v, e.reason()); access.denyPubkey(v); }
                case ALLOWED_PUBKEY -> { allowedPubkeys.put(v, e.reason()); access.allowPubkey(v); }
                case ALLOWED_KIND -> { kindDecisions.put(v, ALLOWED_KIND); access.allowKind(Integer.parseInt(v)); }
                case DENIED_KIND -> { kindDecisions.put(v, DENIED_KIND); access.denyKind(Integer.parseInt(v)); }
                case BLOCKED_IP -> blockedIpReasons.put(v, e.reason());
                case Moderation.BANNED_EVENT -> { bannedEvents.put(v, e.reason()); access.denyEvent(v); }
                case RELAY_NAME -> name = v;
                case RELAY_DESCRIPTION -> description = v;
                case RELAY_ICON -> icon = v;
                default -> log.warn("ignoring unknown moderation entry {} in the store", e.category());
            }
        }
        blockedIps = Set.copyOf(blockedIpReasons.keySet());
        identity = new Identity(name, description, icon);
    }

    /**
     * Applies what the store holds now, when other relays share it (several nodes on one
     * PostgreSQL database): a ban, block or identity change made through NIP-86 on one node takes
     * effect here at the next refresh, with the same consequences as a local call (connections from
     * a newly blocked IP closed, a banned event forgotten, NIP-11 rendered again). Returns how many
     * entries changed. Local calls and refreshes are serialized, and a local change is recorded in
     * the store before it is applied, so a refresh never undoes one.
     */
    public synchronized int refresh() {
        Map<String, String> banned = new LinkedHashMap<>(), allowed = new LinkedHashMap<>(), events = new LinkedHashMap<>(),
                ips = new LinkedHashMap<>(), kinds = new LinkedHashMap<>();
        String name = null, description = null, icon = null;
        for (Entry e : store.moderation()) {
            switch (e.category()) {
                case BANNED_PUBKEY -> banned.put(e.value(), e.reason());
                case ALLOWED_PUBKEY -> allowed.put(e.value(), e.reason());
                case ALLOWED_KIND, DENIED_KIND -> kinds.put(e.value(), e.category());
                case BLOCKED_IP -> ips.put(e.value(), e.reason());
                case Moderation.BANNED_EVENT -> events.put(e.value(), e.reason());
                case RELAY_NAME -> name = e.value();
                case RELAY_DESCRIPTION -> description = e.value();
                case RELAY_ICON -> icon = e.value();
                default -> { }
            }
        }
        int changed = follow(bannedPubkeys, banned, access::denyPubkey, access::undenyPubkey)
                + follow(allowedPubkeys, allowed, access::allowPubkey, access::removeAllowedPubkey)
                + follow(bannedEvents, events, id -> { access.denyEvent(id); onEventBanned.accept(id); }, access::undenyEvent)
                + follow(blockedIpReasons, ips, ip -> { }, ip -> { });
        for (Map.Entry<String, String> k : kinds.entrySet()) {
            if (k.getValue().equals(kindDecisions.get(k.getKey()))) continue;
            int kind = Integer.parseInt(k.getKey());
            if (k.getValue().equals(ALLOWED_KIND)) access.allowKind(kind); else access.denyKind(kind);
            changed++;
        }
        // The API never removes a kind's decision without recording the opposite one, so there is nothing to undo for a vanished row.
        kindDecisions.keySet().retainAll(kinds.keySet());
        kindDecisions.putAll(kinds);
        Set<String> newlyBlocked = new java.util.HashSet<>(ips.keySet());
        newlyBlocked.removeAll(blockedIps);
        blockedIps = Set.copyOf(blockedIpReasons.keySet());
        for (String ip : newlyBlocked) onIpBlocked.accept(ip);
        Identity now = new Identity(name, description, icon);
        if (!now.equals(identity)) {
            identity = now;
            onIdentityChanged.accept(now);
            changed++;
        }
        if (changed > 0) log.info("moderation: applied {} change(s) made on another node", changed);
        return changed;
    }

    /**
     * {@link #refresh()} on a schedule: a store that cannot be read now (the database is down) is
     * logged once when it fails and once when it answers again, not at every tick.
     */
    public void refreshOrLog() {
        try {
            refresh();
            if (refreshFailing) log.info("moderation: shared state readable again");
            refreshFailing = false;
        } catch (RuntimeException e) {
            if (!refreshFailing) log.warn("moderation: cannot read the shared state ({}); changes made on other nodes apply once it can", e.getMessage());
            refreshFailing = true;
        }
    }

    /** Makes {@code mine} equal to {@code stored}, telling {@code added} and {@code removed} about each key that changed; returns how many did. */
    private static int follow(Map<String, String> mine, Map<String, String> stored, Consumer<String> added, Consumer<String> removed) {
        int changed = 0;
        for (java.util.Iterator<Map.Entry<String, String>> it = mine.entrySet().iterator(); it.hasNext(); ) {
            String key = it.next().getKey();
            if (stored.containsKey(key)) continue;
            it.remove();
            removed.accept(key);
            changed++;
        }
        for (Map.Entry<String, String> e : stored.entrySet()) {
            String before = mine.put(e.getKey(), e.getValue());
            if (before == null) {
                added.accept(e.getKey());
                changed++;
            }
        }
        return changed;
    }

    /** Told when NIP-11 must be rendered again. */
    public void onIdentityChanged(Consumer<Identity> listener) { this.onIdentityChanged = listener; }

    /** Told when an IP is blocked, so connections from it can be closed. */
    public void onIpBlocked(Consumer<String> listener) { this.onIpBlocked = listener; }

    /** Told when an event is banned (and deleted), so caches of stored ids can forget it. */
    public void onEventBanned(Consumer<String> listener) { this.onEventBanned = listener; }

    public boolean isIpBlocked(String ip) {
        Set<String> blocked = blockedIps;
        return !blocked.isEmpty() && ip != null && blocked.contains(ip);
    }

    public Identity identity() { return identity; }

    AccessControl access() { return access; }

    synchronized void banPubkey(String pubkey, String reason) {
        record(Change.ADD, BANNED_PUBKEY, pubkey, reason);
        bannedPubkeys.put(pubkey, reason);
        access.denyPubkey(pubkey);
    }

    synchronized void unbanPubkey(String pubkey) {
        record(Change.REMOVE, BANNED_PUBKEY, pubkey, "");
        bannedPubkeys.remove(pubkey);
        access.undenyPubkey(pubkey);
    }

    synchronized void allowPubkey(String pubkey, String reason) {
        record(Change.ADD, ALLOWED_PUBKEY, pubkey, reason);
        allowedPubkeys.put(pubkey, reason);
        access.allowPubkey(pubkey);
    }

    synchronized void unallowPubkey(String pubkey) {
        record(Change.REMOVE, ALLOWED_PUBKEY, pubkey, "");
        allowedPubkeys.remove(pubkey);
        access.removeAllowedPubkey(pubkey);
    }

    /** Reasons by pubkey, for every denied pubkey (configured ones with an empty reason). */
    synchronized Map<String, String> bannedPubkeys() {
        Map<String, String> all = new LinkedHashMap<>();
        for (String p : access.deniedPubkeys()) all.put(p, bannedPubkeys.getOrDefault(p, ""));
        return all;
    }

    synchronized Map<String, String> allowedPubkeys() {
        Map<String, String> all = new LinkedHashMap<>();
        for (String p : access.allowedPubkeys()) all.put(p, allowedPubkeys.getOrDefault(p, ""));
        return all;
    }

    synchronized void banEvent(String id, String reason) {
        boolean wasDenied = access.isEventDenied(id);
        access.denyEvent(id); // first, so the event cannot be stored again between the store's delete and here
        try {
            record(Change.ADD, Moderation.BANNED_EVENT, id, reason);
        } catch (RuntimeException e) {
            if (!wasDenied) access.undenyEvent(id);
            throw e;
        }
        bannedEvents.put(id, reason);
        onEventBanned.accept(id);
    }

    synchronized void allowEvent(String id) {
        record(Change.REMOVE, Moderation.BANNED_EVENT, id, "");
        bannedEvents.remove(id);
        access.undenyEvent(id);
    }

    synchronized Map<String, String> bannedEvents() { return new LinkedHashMap<>(bannedEvents); }

    synchronized void allowKind(int kind) {
        record(Change.REMOVE, DENIED_KIND, Integer.toString(kind), "");
        record(Change.ADD, ALLOWED_KIND, Integer.toString(kind), "");
        kindDecisions.put(Integer.toString(kind), ALLOWED_KIND);
        access.allowKind(kind);
    }

    synchronized void disallowKind(int kind) {
        record(Change.REMOVE, ALLOWED_KIND, Integer.toString(kind), "");
        record(Change.ADD, DENIED_KIND, Integer.toString(kind), "");
        kindDecisions.put(Integer.toString(kind), DENIED_KIND);
        access.denyKind(kind);
    }

    /** Null when {@code ip} is not an IP address. */
    static String normalizeIp(String ip) {
        return IpAddresses.normalize(ip);
    }

    synchronized void blockIp(String ip, String reason) {
        record(Change.ADD, BLOCKED_IP, ip, reason);
        blockedIpReasons.put(ip, reason);
        blockedIps = Set.copyOf(blockedIpReasons.keySet());
        onIpBlocked.accept(ip);
    }

    synchronized void unblockIp(String ip) {
        record(Change.REMOVE, BLOCKED_IP, ip, "");
        blockedIpReasons.remove(ip);
        blockedIps = Set.copyOf(blockedIpReasons.keySet());
    }

    synchronized Map<String, String> blockedIps() { return new LinkedHashMap<>(blockedIpReasons); }

    synchronized void changeName(String name) {
        record(Change.SET, RELAY_NAME, name, "");
        identity = new Identity(name, identity.description(), identity.icon());
        onIdentityChanged.accept(identity);
    }

    synchronized void changeDescription(String description) {
        record(Change.SET, RELAY_DESCRIPTION, description, "");
        identity = new Identity(identity.name(), description, identity.icon());
        onIdentityChanged.accept(identity);
    }

    synchronized void changeIcon(String icon) {
        record(Change.SET, RELAY_ICON, icon, "");
        identity = new Identity(identity.name(), identity.description(), icon);
        onIdentityChanged.accept(identity);
    }

    /** Writes the change durably before it takes effect; a store that cannot keep it only logs (once) that it will not survive a restart. */
    private void record(Change change, String category, String value, String reason) {
        try {
            store.moderate(change, new Entry(category, value, reason == null ? "" : reason)).get();
        } catch (ExecutionException e) {
            if (e.getCause() instanceof UnsupportedOperationException) {
                if (!warnedUnpersisted) log.warn("this store does not keep moderation state: NIP-86 changes last until the relay restarts");
                warnedUnpersisted = true;
                return;
            }
            throw new IllegalStateException("could not record the change: " + e.getCause().getMessage(), e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
    }
}
