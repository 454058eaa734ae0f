package dev.nexus.server;

import dev.nexus.config.NexusConfig;
import dev.nexus.core.MarketplaceKinds;
import dev.nexus.core.ClientMessage;
import dev.nexus.core.ClientMessageParser;
import dev.nexus.core.Event;
import dev.nexus.core.Filter;
import dev.nexus.core.InvalidEventException;
import dev.nexus.core.InvalidFilterException;
import dev.nexus.core.Kinds;
import dev.nexus.core.MalformedMessageException;
import dev.nexus.core.ProtocolLimits;
import dev.nexus.core.RelayMessages;
import dev.nexus.core.SignatureVerifier;
import dev.nexus.server.metrics.RelayMetrics;
import dev.nexus.server.nip01.EventIngest;
import dev.nexus.server.nip01.FanOut;
import dev.nexus.server.nip01.SubscriptionIndex;
import dev.nexus.server.nip01.Subscriptions;
import dev.nexus.server.nip42.AuthHandler;
import dev.nexus.server.nip45.CountHandler;
import dev.nexus.server.nip77.Nip77Handler;
import dev.nexus.server.policy.AccessControl;
import dev.nexus.server.policy.Policies;
import dev.nexus.server.policy.Refusal;
import dev.nexus.storage.EventStore;
import dev.nexus.storage.LiveFeed;
import java.util.concurrent.Executor;
import java.util.function.LongSupplier;

/**
 * The protocol's switchboard: parses each client message on its event loop and routes it to the
 * handler for its verb. The handlers are assembled here, in one place: {@link EventIngest} (EVENT),
 * {@link Subscriptions} (REQ, CLOSE), {@link CountHandler} (NIP-45 COUNT), {@link AuthHandler}
 * (NIP-42 AUTH), {@link Nip77Handler} (NEG-*), and {@link FanOut} for live events. A new verb gets a
 * handler of its own and one line in {@link #onText}; a new admission rule goes into
 * {@link Policies}, not here.
 */
final class MessageDispatcher {
    private final ClientMessageParser parser;
    private final EventIngest ingest;
    private final Subscriptions subscriptions;
    private final CountHandler counts;
    private final AuthHandler auth;
    private final Nip77Handler nip77;
    private final FanOut fanOut;
    private final RelayMetrics metrics;

    MessageDispatcher(NexusConfig config, EventStore store, LiveFeed liveFeed, SignatureVerifier verifier, TwoLaneExecutor verifiers,
                      Executor queryWorkers, SubscriptionIndex index, Policies policies, AccessControl access, LongSupplier clock,
                      RelayMetrics metrics) {
        this.metrics = metrics;
        NexusConfig.Limits l = config.limits();
        this.parser = new ClientMessageParser(new ProtocolLimits(l.maxEventTags(), l.maxContentLength(), l.maxFilters(),
                l.maxSubidLength(), l.maxFilterValues()));
        NexusConfig.Auth a = config.auth();
        RestrictedKinds restricted = a.requiredForWrites()
                ? new RestrictedKinds(a.restrictedKinds(), a.restrictEncryptedJobs(), config.marketplace().kinds(), a.openKinds())
                : RestrictedKinds.none(config.marketplace().kinds());
        QueueBound queriesBound = new QueueBound(l.maxQueuedQueries());
        MarketplaceKinds jobKinds = config.marketplace().kinds();
        this.fanOut = new FanOut(index, restricted, new HiddenAuthors(access), config.server().liveCoalesceMillis(),
                e -> jobKinds.isJobTraffic(e.kind()), System::nanoTime, metrics::liveEventFlushed);
        this.ingest = new EventIngest(policies, store, liveFeed, verifier, verifiers, config.marketplace().kinds(), l.maxEventsInFlight(), metrics);
        this.subscriptions = new Subscriptions(l, policies, store, queryWorkers, queriesBound, index, restricted, new HiddenAuthors(access), clock);
        this.counts = new CountHandler(policies, store, queryWorkers, queriesBound, restricted, clock);
        this.auth = new AuthHandler(config, verifier, access, verifiers, clock);
        // NIP-77 reconciles ids only, so restricted kinds cannot be filtered event by event as REQ
        // does: a filter that may match them is refused unless it is pinned to the reader.
        this.nip77 = new Nip77Handler(l, store, queryWorkers, (s, verb, filters) -> {
            Refusal refusal = policies.admitRead(verb, filters, s);
            if (refusal != null) return refusal.message();
            for (Filter f : filters) {
                if (restricted.mayMatchRestricted(f) && !RestrictedKinds.pinnedTo(s.authenticatedPubkeys(), f)) {
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

    /** From now on EVENTs are answered at once, not stored: the relay is stopping. */
    void refuseNewEvents() {
        ingest.refuseNewEvents();
    }

    /** Waits until every EVENT read so far has been answered (its OK sent after commit); false on timeout. */
    boolean awaitEventsAnswered(long timeoutMillis) throws InterruptedException {
        return ingest.awaitEventsAnswered(timeoutMillis);
    }

    void onOpen(Session s) {
        auth.challenge(s);
    }

    void onClose(Session s) {
        subscriptions.onDisconnect(s);
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
        if (message instanceof ClientMessage.Publish p) ingest.onEvent(s, p.event());
        else if (message instanceof ClientMessage.Subscribe r) subscriptions.onReq(s, r);
        else if (message instanceof ClientMessage.Unsubscribe c) subscriptions.onClose(s, c.subscriptionId());
        else if (message instanceof ClientMessage.Count c) counts.onCount(s, c);
        else if (message instanceof ClientMessage.Authenticate a) auth.onAuth(s, a.event());
        else if (message instanceof ClientMessage.NegentropyOpen o) nip77.onOpen(s, o);
        else if (message instanceof ClientMessage.NegentropyMessage m) nip77.onMessage(s, m);
        else if (message instanceof ClientMessage.NegentropyClose c) nip77.onClose(s, c.subscriptionId());
    }

    /** After a NIP-86 banevent: the id is no longer stored, so the recent-ids cache must not call it a duplicate. */
    void forgetEvent(String id) {
        ingest.forget(id);
    }

    /** From the live feed (on its thread, nexus-fanout or nexus-feed): an event committed by any node, or an ephemeral one, in commit order. */
    void onCommitted(LiveFeed.LiveEvent committed) {
        Event e = committed.event();
        if (committed.stored() && e.kind() == Kinds.DELETION) ingest.forgetDeleted(e);
        fanOut.publish(e);
    }

    static long now() {
        return System.currentTimeMillis() / 1000;
    }
}
