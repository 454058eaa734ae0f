package dev.nexus.server.policy;

import dev.nexus.config.NexusConfig;
import dev.nexus.core.KindRanges;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Who and what may publish: allowed and denied pubkeys, allowed and denied kinds. Read on every
 * EVENT and AUTH from many threads, changed rarely (a NIP-86 management call): each change
 * replaces an immutable set, so readers never lock. Starts from {@code [auth] allowed_pubkeys /
 * denied_pubkeys} and {@code [limits] allowed_kinds}; NIP-86 changes are recorded in the store by
 * {@code nip86.RelayModeration}, which applies them again at start.
 */
public final class AccessControl {
    private volatile Set<String> allowedPubkeys;
    private volatile Set<String> deniedPubkeys;
    private volatile KindRanges allowedKinds;
    private volatile Set<Integer> deniedKinds = Set.of();
    private volatile Set<String> deniedEventIds = Set.of();

    public AccessControl(Set<String> allowedPubkeys, Set<String> deniedPubkeys, KindRanges allowedKinds) {
        this.allowedPubkeys = Set.copyOf(allowedPubkeys);
        this.deniedPubkeys = Set.copyOf(deniedPubkeys);
        this.allowedKinds = allowedKinds;
    }

    public static AccessControl fromConfig(NexusConfig config) {
        return new AccessControl(config.auth().allowedPubkeys(), config.auth().deniedPubkeys(), config.limits().allowedKinds());
    }

    public static AccessControl open() {
        return new AccessControl(Set.of(), Set.of(), KindRanges.NONE);
    }

    public boolean isDenied(String pubkey) {
        return deniedPubkeys.contains(pubkey);
    }

    /** Whether an allow list is in force (an empty one allows everybody). */
    public boolean hasAllowList() {
        return !allowedPubkeys.isEmpty();
    }

    /** Whether this pubkey may publish as far as the allow list goes (true when there is none). */
    public boolean isAllowed(String pubkey) {
        Set<String> allowed = allowedPubkeys;
        return allowed.isEmpty() || allowed.contains(pubkey);
    }

    /** Whether events of this kind are accepted: not denied, and on the allowed kinds when there are any. */
    public boolean acceptsKind(int kind) {
        if (deniedKinds.contains(kind)) return false;
        KindRanges allowed = allowedKinds;
        return allowed.isEmpty() || allowed.contains(kind);
    }

    /** Whether the operator banned this event id (NIP-86 banevent). */
    public boolean isEventDenied(String id) {
        Set<String> denied = deniedEventIds;
        return !denied.isEmpty() && denied.contains(id);
    }

    public synchronized void denyEvent(String id) {
        deniedEventIds = with(deniedEventIds, id);
    }

    public synchronized void undenyEvent(String id) {
        deniedEventIds = without(deniedEventIds, id);
    }

    public Set<String> allowedPubkeys() { return allowedPubkeys; }
    public Set<String> deniedPubkeys() { return deniedPubkeys; }
    public KindRanges allowedKinds() { return allowedKinds; }
    public Set<Integer> deniedKinds() { return deniedKinds; }

    public synchronized void denyPubkey(String pubkey) {
        deniedPubkeys = with(deniedPubkeys, pubkey);
    }

    public synchronized void undenyPubkey(String pubkey) {
        deniedPubkeys = without(deniedPubkeys, pubkey);
    }

    /** Adds to the allow list; note that the first entry turns the allow list on for everybody else. */
    public synchronized void allowPubkey(String pubkey) {
        allowedPubkeys = with(allowedPubkeys, pubkey);
    }

    public synchronized void removeAllowedPubkey(String pubkey) {
        allowedPubkeys = without(allowedPubkeys, pubkey);
    }

    /** Accepts this kind again: lifts a denial, and adds it to the allowed kinds when they are restricted. */
    public synchronized void allowKind(int kind) {
        deniedKinds = without(deniedKinds, kind);
        if (!allowedKinds.isEmpty() && !allowedKinds.contains(kind)) {
            List<String> specs = new ArrayList<>(allowedKinds.specs());
            specs.add(Integer.toString(kind));
            allowedKinds = KindRanges.parse(specs);
        }
    }

    public synchronized void denyKind(int kind) {
        deniedKinds = with(deniedKinds, kind);
    }

    private static <T> Set<T> with(Set<T> set, T value) {
        if (set.contains(value)) return set;
        Set<T> copy = new HashSet<>(set);
        copy.add(value);
        return Set.copyOf(copy);
    }

    private static <T> Set<T> without(Set<T> set, T value) {
        if (!set.contains(value)) return set;
        Set<T> copy = new HashSet<>(set);
        copy.remove(value);
        return Set.copyOf(copy);
    }
}
