package dev.nexus.server;

import dev.nexus.config.NexusConfig;
import dev.nexus.core.ClientMessage;
import dev.nexus.core.ClientMessageParser;
import dev.nexus.core.Event;
import dev.nexus.core.Filter;
import dev.nexus.core.InvalidEventException;
import dev.nexus.core.InvalidFilterException;
import dev.nexus.core.KindRanges;
import dev.nexus.core.Kinds;
import dev.nexus.core.MarketplaceKinds;
import dev.nexus.core.MalformedMessageException;
import dev.nexus.core.ProtocolLimits;
import dev.nexus.core.RelayMessages;
import dev.nexus.core.SignatureVerifier;
import dev.nexus.server.metrics.RelayMetrics;
import dev.nexus.storage.EventStore;
import dev.nexus.storage.LiveFeed;
import dev.nexus.storage.StoreException;
import dev.nexus.storage.StoredEvent;
import dev.nexus.storage.WriteResult;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import io.netty.channel.EventLoop;
import java.util.concurrent.Executor;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The protocol: what Nexus does with each client message. Runs the cheap checks on the I/O
 * thread, hands signature checks to the verifier pool (job traffic, as {@link MarketplaceKinds}
 * defines it, and AUTH in its priority lane) and stored queries to the query workers,
 * and never blocks an event loop. A new NIP's message handling or admission rule goes here.
 */
final class MessageDispatcher {
    private static final Logger log = LoggerFactory.getLogger(MessageDispatcher.class);
    /** EVENTs one connection may have between parse and OK before the relay stops reading from it. */
    private static final int MAX_EVENTS_IN_FLIGHT = 1024;
    private static final int RESUME_READING_AT = MAX_EVENTS_IN_FLIGHT / 2;

    private final NexusConfig config;
    private final ClientMessageParser parser;
    private final EventStore store;
    /** The cluster's feed of commits, or null when this node's own writer is the only source of live events. */
    private final LiveFeed liveFeed;
    private final SignatureVerifier verifier;
    private final TwoLaneExecutor verifiers;
    private final Executor queryWorkers;
    private final SubscriptionIndex index;
    private final RateLimiter limiter;
    private final RecentIds recentIds = new RecentIds(100_000);
    private final Nip42Auth auth;
    private final Nip77Handler nip77;
    private final AuthBudget authBudget;
    private final QueueBound eventsBound;
    private final RestrictedKinds restricted;
    private final QueueBound queriesBound;
    private final MarketplaceKinds marketplace;
    private final RelayMetrics metrics;

    MessageDispatcher(NexusConfig config, EventStore store, LiveFeed liveFeed, SignatureVerifier verifier, TwoLaneExecutor verifiers,
                      Executor queryWorkers, SubscriptionIndex index, RateLimiter limiter, RelayMetrics metrics) {
        this.metrics = metrics;
        this.config = config;
        NexusConfig.Limits l = config.limits();
        this.parser = new ClientMessageParser(new ProtocolLimits(l.maxEventTags(), l.maxContentLength(), l.maxFilters(),
                l.maxSubidLength(), l.maxFilterValues()));
        this.store = store;
        this.liveFeed = liveFeed;
        this.verifier = verifier;
        this.verifiers = verifiers;
        this.queryWorkers = queryWorkers;
        this.index = index;
        this.limiter = limiter;
        this.auth = new Nip42Auth(config, verifier);
        NexusConfig.Auth a = config.auth();
        this.eventsBound = new QueueBound(l.maxEventsInFlight());
        this.restricted = config.auth().requiredForWrites()
                ? new RestrictedKinds(config.auth().restrictedKinds(), config.auth().restrictEncryptedJobs(), config.marketplace().kinds(), config.auth().openKinds())
                : RestrictedKinds.none(config.marketplace().kinds());
        this.queriesBound = new QueueBound(l.maxQueuedQueries());
        this.authBudget = new AuthBudget(a.maxAuthsInFlight(), a.maxAuthsPerConnection(), a.maxFailedAuths());
        this.marketplace = config.marketplace().kinds();
        // NIP-77 reconciles ids only, so restricted kinds cannot be filtered event by event as REQ
        // does: a filter that may match them is refused unless it is pinned to the reader.
        this.nip77 = new Nip77Handler(l, store, queryWorkers, (s, verb, filters) -> {
            String refusal = readRefusal(s, verb, filters);
            if (refusal != null) return refusal;
            for (Filter f : filters) {
                if (restricted.mayMatchRestricted(f) && !RestrictedKinds.pinnedTo(s.authenticated(), f)) {
                    return "restricted: this filter may match kinds served only to their author or recipient; "
                            + "exclude those kinds, or pin the filter to your authenticated pubkey (authors or #p)";
                }
            }
            return null;
        });
    }

    void useBoundPort(int port) {
        auth.useBoundPort(port);
    }

    private volatile boolean shuttingDown;

    /** From now on EVENTs are answered at once, not stored: the relay is stopping (decoders may still read a little). */
    void refuseNewEvents() {
        shuttingDown = true;
    }

    /** Waits until every EVENT read so far has been answered (its OK sent after commit); false on timeout. */
    boolean awaitEventsAnswered(long timeoutMillis) throws InterruptedException {
        long deadline = System.currentTimeMillis() + timeoutMillis;
        while (eventsBound.queued() > 0) {
            if (System.currentTimeMillis() > deadline) return false;
            Thread.sleep(10);
        }
        return true;
    }

    void onOpen(Session s) {
        s.send(RelayMessages.auth(s.challenge()));
    }

    void onClose(Session s) {
        for (Subscription sub : s.removeAllSubscriptions()) index.remove(sub);
        nip77.onDisconnect(s);
    }

    /** Called on the session's event loop with one complete text message. */
    void onText(Session s, byte[] utf8, int offset, int length) {
        ClientMessage message;
        try {
            message = parser.parse(utf8, offset, length);
        } catch (MalformedMessageException e) {
            metrics.messageIn("malformed");
            s.send(RelayMessages.notice(e.getMessage()));
            return;
        } catch (InvalidEventException e) {
            metrics.eventUnparsable();
            s.send(RelayMessages.ok(e.eventId(), false, "invalid: " + e.getMessage()));
            return;
        } catch (InvalidFilterException e) {
            metrics.messageIn(e.verb());
            s.send(e.verb().equals("NEG-OPEN") ? RelayMessages.negentropyError(e.subscriptionId(), e.getMessage())
                    : RelayMessages.closed(e.subscriptionId(), e.getMessage()));
            return;
        }
        metrics.messageIn(message);
        if (message instanceof ClientMessage.Publish p) onEvent(s, p.event());
        else if (message instanceof ClientMessage.Subscribe r) onReq(s, r);
        else if (message instanceof ClientMessage.Unsubscribe c) onCloseSubscription(s, c.subscriptionId());
        else if (message instanceof ClientMessage.Count c) onCount(s, c);
        else if (message instanceof ClientMessage.Authenticate a) onAuth(s, a.event());
        else if (message instanceof ClientMessage.NegentropyOpen o) nip77.onOpen(s, o);
        else if (message instanceof ClientMessage.NegentropyMessage m) nip77.onMessage(s, m);
        else if (message instanceof ClientMessage.NegentropyClose c) nip77.onClose(s, c.subscriptionId());
    }

    // ------------------------------------------------------------------ EVENT

    private void onEvent(Session s, Event e) {
        if (shuttingDown) {
            s.send(RelayMessages.ok(e.id(), false, "error: the relay is shutting down; publish again once it is back"));
            metrics.eventAnswered(e, false, "error:");
            return;
        }
        String refusal = admission(s, e);
        if (refusal != null) {
            s.send(RelayMessages.ok(e.id(), false, refusal));
            metrics.eventAnswered(e, false, refusal);
            return;
        }
        if (recentIds.contains(e.id())) {
            s.send(RelayMessages.ok(e.id(), WriteResult.ALREADY_STORED.accepted(), WriteResult.ALREADY_STORED.message()));
            metrics.eventAnswered(e, true, WriteResult.ALREADY_STORED.message());
            return;
        }
        if (s.eventsInFlight().incrementAndGet() >= MAX_EVENTS_IN_FLIGHT) ReadGate.of(s.channel()).pause(ReadGate.EVENTS_IN_FLIGHT);
        eventsBound.enter(s.channel());
        verifiers.execute(() -> verifyAndStore(s, e), marketplace.isJobTraffic(e.kind()));
    }

    /** Every cheap reason to refuse an event, checked before the signature; null when admitted. */
    private String admission(Session s, Event e) {
        int kind = e.kind();
        if (kind == Kinds.AUTH) return "invalid: kind 22242 events are only accepted in an AUTH message";
        NexusConfig.Auth a = config.auth();
        if (!s.isAuthenticated() && a.requiredToPublish(kind)) return "auth-required: this relay requires NIP-42 authentication to publish";
        if (a.deniedPubkeys().contains(e.pubkey())) return "blocked: this pubkey may not publish here";
        // Without authentication (auth off, or an open kind) the allow list can only be checked against the event's author;
        // with it, an allowed agent could otherwise publish events signed by keys that are not allowed.
        boolean authorsChecked = !a.requiredForWrites() || !s.isAuthenticated() || a.allowListCoversAuthors();
        if (!a.allowedPubkeys().isEmpty() && authorsChecked && !a.allowedPubkeys().contains(e.pubkey())) {
            return "restricted: this event's author is not on the relay's allow list";
        }
        if (e.hasTag("-") && !s.authenticated().contains(e.pubkey())) {
            // NIP-70 protected event: only its author, authenticated, may publish it.
            return s.isAuthenticated() ? "restricted: this protected event may only be published by its author"
                    : "auth-required: this protected event may only be published by its authenticated author";
        }
        RateLimiter.Kind budget = marketplace.isJobTraffic(kind) ? RateLimiter.Kind.JOBS : RateLimiter.Kind.EVENTS;
        if (!limiter.forIp(s.remoteIp()).tryTake(budget)) return "rate-limited: slow down, too many events from your address";
        // The budget is the authenticated agent's: a gift wrap's throwaway key or a relayed event's author is not charged.
        String agent = s.authenticated().contains(e.pubkey()) ? e.pubkey() : firstOrNull(s.authenticated());
        if (agent != null && !limiter.forPubkey(agent).tryTake(budget)) return "rate-limited: slow down, too many events from your pubkey";
        long now = now();
        NexusConfig.Limits l = config.limits();
        if (l.createdAtUpperLimit() > 0 && e.createdAt() > now + l.createdAtUpperLimit()) return "invalid: created_at is too far in the future";
        if (l.createdAtLowerLimit() > 0 && e.createdAt() < now - l.createdAtLowerLimit()) return "invalid: created_at is too far in the past";
        Long expiration = e.expiration();
        if (expiration != null && expiration <= now) return "invalid: event has already expired (NIP-40)";
        return marketplace.shapeRefusal(e);
    }

    private void verifyAndStore(Session s, Event e) {
        if (!verifier.verify(e)) {
            finish(s, e, new WriteResult(false, "invalid: bad signature"));
            return;
        }
        if (Kinds.isEphemeral(e.kind())) {
            if (liveFeed != null) {
                liveFeed.publish(e).whenComplete((result, error) -> finish(s, e, error == null ? result : WriteResult.error("could not relay the event")));
                return;
            }
            finish(s, e, WriteResult.STORED);
            publishLive(e);
            return;
        }
        store.write(e).whenComplete((result, error) -> {
            if (error != null) {
                log.error("storing event {} failed: {}", e.id(), error.toString());
                result = WriteResult.error("could not store the event");
            }
            // The id caches are updated before the OK: a client that republishes a deleted event right after
            // the deletion's OK must reach the store (blocked:), not a stale cache entry.
            if (result.accepted()) {
                recentIds.add(e.id());
                if (!result.alreadyStored() && e.kind() == Kinds.DELETION) forgetDeleted(e);
            }
            finish(s, e, result);
            // With a cluster feed, every node (this one included) fans out from the feed, in commit order.
            if (liveFeed == null && result.accepted() && !result.alreadyStored()) publishLive(e);
        });
    }

    /** From the cluster feed (on its thread): an event committed by any node, or an ephemeral one, in commit order. */
    void onCommitted(LiveFeed.LiveEvent committed) {
        Event e = committed.event();
        if (committed.stored() && e.kind() == Kinds.DELETION) forgetDeleted(e);
        publishLive(e);
    }

    /** Deleted ids must reach the store again so that it can answer "blocked:", not "duplicate:". */
    private void forgetDeleted(Event deletion) {
        for (List<String> tag : deletion.tags()) {
            if (tag.size() >= 2 && tag.get(0).equals("e")) recentIds.remove(tag.get(1));
        }
    }

    private void finish(Session s, Event e, WriteResult result) {
        s.send(RelayMessages.ok(e.id(), result.accepted(), result.message()));
        metrics.eventAnswered(e, result.accepted(), result.message());
        eventsBound.exit();
        if (s.eventsInFlight().decrementAndGet() == RESUME_READING_AT) ReadGate.of(s.channel()).resume(ReadGate.EVENTS_IN_FLIGHT);
    }

    /** Fan-out: one index lookup, then the shared event bytes go to every matching subscription. */
    void publishLive(Event e) {
        // One task per event loop rather than one per subscriber: fewer wake-ups, one flush per connection.
        Map<EventLoop, List<Subscription>> byLoop = new IdentityHashMap<>(4);
        boolean isRestricted = restricted.isRestricted(e);
        index.forEachMatch(e, sub -> {
            if (!isRestricted || restricted.visibleTo(sub.session().authenticated(), e)) byLoop.computeIfAbsent(sub.session().channel().eventLoop(), k -> new ArrayList<>()).add(sub);
        });
        for (Map.Entry<EventLoop, List<Subscription>> entry : byLoop.entrySet()) {
            List<Subscription> subs = entry.getValue();
            entry.getKey().execute(() -> Session.deliverAll(subs, e));
        }
    }

    // ------------------------------------------------------------------ REQ / CLOSE

    /** Why a REQ or COUNT may not read now (the CLOSED message), or null. */
    private String readRefusal(Session s, String verb, List<Filter> filters) {
        if (config.auth().requiredForReads() && !s.isAuthenticated() && !onlyOpenKinds(filters)) {
            return "auth-required: this relay requires NIP-42 authentication to read";
        }
        if (!limiter.forIp(s.remoteIp()).tryTake(RateLimiter.Kind.REQS)) return "rate-limited: slow down, too many " + verb + "s from your address";
        String agent = firstOrNull(s.authenticated());
        if (agent != null && !limiter.forPubkey(agent).tryTake(RateLimiter.Kind.REQS)) {
            return "rate-limited: slow down, too many " + verb + "s from your pubkey";
        }
        return null;
    }

    private void onReq(Session s, ClientMessage.Subscribe req) {
        String subId = req.subscriptionId();
        String refusal = readRefusal(s, "REQ", req.filters());
        if (refusal != null) {
            s.send(RelayMessages.closed(subId, refusal));
            return;
        }
        if (!s.isAuthenticated() && req.filters().stream().anyMatch(restricted::mayMatchRestricted)) {
            // NIP-42 on demand: private events reach this REQ only once the client authenticates as an involved key.
            s.send(RelayMessages.auth(s.challenge()));
            if (req.filters().stream().allMatch(restricted::onlyRestricted)) {
                s.send(RelayMessages.closed(subId, "auth-required: these kinds are served only to their authenticated author or recipients"));
                return;
            }
        }
        int max = config.limits().maxSubscriptions();
        if (!s.subscriptions().containsKey(subId) && s.subscriptions().size() >= max) {
            s.send(RelayMessages.closed(subId, "rate-limited: too many open subscriptions (max " + max + ")"));
            return;
        }
        Subscription sub = new Subscription(s, subId, req.filters());
        Subscription replaced = s.putSubscription(sub);
        if (replaced != null) index.remove(replaced);
        if (!index.tryAdd(sub)) {
            s.removeSubscription(subId);
            s.send(RelayMessages.closed(subId, "rate-limited: the relay holds as many subscriptions as it can; try again later"));
            return;
        }
        queriesBound.enter(s.channel());
        queryWorkers.execute(() -> {
            try {
                runStoredQuery(s, sub);
            } finally {
                queriesBound.exit();
            }
        });
    }

    private void runStoredQuery(Session s, Subscription sub) {
        // A client that re-sends REQ under the same id faster than queries run would otherwise queue dead work.
        if (sub.cancelled() || s.isClosing() || !s.channel().isActive()) return;
        List<byte[]> jsons;
        Set<String> ids = new HashSet<>();
        try {
            long now = now();
            int maxLimit = config.limits().maxLimit();
            List<StoredEvent> found = new ArrayList<>();
            for (Filter f : sub.filters()) {
                if (sub.cancelled()) return;
                int limit = f.limit() == null ? maxLimit : Math.min(f.limit(), maxLimit);
                for (StoredEvent ev : store.query(f, limit, now)) if (ids.add(ev.id())) found.add(ev);
            }
            if (sub.filters().stream().anyMatch(restricted::mayMatchRestricted)) {
                found.removeIf(ev -> !restricted.visibleTo(s.authenticated(), ev.json()));
            }
            if (sub.filters().size() > 1) {
                found.sort(Comparator.comparingLong(StoredEvent::createdAt).reversed().thenComparing(StoredEvent::id));
            }
            jsons = new ArrayList<>(found.size());
            for (StoredEvent ev : found) jsons.add(ev.json());
        } catch (RuntimeException ex) {
            String answer = queryFailure(ex, "query", sub.id());
            s.channel().eventLoop().execute(() -> {
                if (!sub.cancelled()) {
                    s.removeSubscription(sub.id());
                    index.remove(sub);
                    s.send(RelayMessages.closed(sub.id(), answer));
                }
            });
            return;
        }
        s.channel().eventLoop().execute(() -> s.sendStored(sub, jsons, ids));
    }

    /** NIP-45: one number from the query workers, under the same auth and REQ budget as a REQ. */
    private void onCount(Session s, ClientMessage.Count count) {
        String subId = count.subscriptionId();
        String refusal = readRefusal(s, "COUNT", count.filters());
        if (refusal != null) {
            s.send(RelayMessages.closed(subId, refusal));
            return;
        }
        queriesBound.enter(s.channel());
        queryWorkers.execute(() -> {
            try {
                runCount(s, subId, count);
            } finally {
                queriesBound.exit();
            }
        });
    }

    private void runCount(Session s, String subId, ClientMessage.Count count) {
        if (!s.channel().isActive()) return;
        try {
            long now = now();
            s.send(RelayMessages.count(subId, restricted.visibleCount(count.filters(), s.authenticated(), fs -> store.count(fs, now))));
        } catch (RuntimeException ex) {
            s.send(RelayMessages.closed(subId, queryFailure(ex, "count", subId)));
        }
    }

    /** The CLOSED message for a query that could not be answered; only real faults are logged as errors. */
    private static String queryFailure(RuntimeException ex, String what, String subId) {
        if (ex instanceof StoreException se && se.reason() == StoreException.Reason.TIMEOUT) {
            log.debug("{} for subscription {} ran out of time", what, LogSafe.quote(subId));
            return "error: this " + what + " took too long; narrow its filters (since/until, authors, kinds, limit)";
        }
        if (ex instanceof StoreException se && se.reason() == StoreException.Reason.TOO_MANY_VALUES) {
            return "invalid: " + se.getMessage();
        }
        log.error("{} for subscription {} failed: {}", what, LogSafe.quote(subId), ex.toString());
        return "error: could not run this " + what;
    }

    private void onCloseSubscription(Session s, String subId) {
        Subscription sub = s.removeSubscription(subId);
        if (sub != null) index.remove(sub);
    }

    // ------------------------------------------------------------------ AUTH

    private void onAuth(Session s, Event e) {
        AuthBudget.Account account = s.authAccount();
        String overBudget = authBudget.admit(account);
        if (overBudget != null) {
            s.send(RelayMessages.ok(e.id(), false, overBudget));
            return;
        }
        verifiers.execute(() -> {
            String refusal = null;
            try {
                refusal = auth.check(s, e, now());
                if (refusal != null) {
                    s.send(RelayMessages.ok(e.id(), false, refusal));
                    return;
                }
                s.authenticated().add(e.pubkey());
                log.debug("{} authenticated as {}", s.remoteIp(), e.pubkey());
                s.send(RelayMessages.ok(e.id(), true, ""));
            } finally {
                if (authBudget.done(account, refusal != null)) {
                    log.info("closing {}: too many failed AUTH attempts", s.remoteIp());
                    s.closeWith(1008, "too many failed AUTH attempts");
                }
            }
        }, authBudget.priority(account));
    }

    /** Whether every filter names its kinds and all of them are {@code [auth] open_kinds}: readable without AUTH. */
    private boolean onlyOpenKinds(List<Filter> filters) {
        KindRanges open = config.auth().openKinds();
        if (open.isEmpty() || filters.isEmpty()) return false;
        for (Filter f : filters) {
            if (f.kinds() == null || f.kinds().isEmpty()) return false;
            for (int k : f.kinds()) if (!open.contains(k)) return false;
        }
        return true;
    }

    private static String firstOrNull(Set<String> set) {
        for (String s : set) return s;
        return null;
    }

    static long now() {
        return System.currentTimeMillis() / 1000;
    }
}
