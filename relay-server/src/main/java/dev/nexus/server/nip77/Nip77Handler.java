package dev.nexus.server.nip77;

import dev.nexus.config.NexusConfig;
import dev.nexus.core.ClientMessage;
import dev.nexus.core.Filter;
import dev.nexus.core.Hex;
import dev.nexus.core.RelayMessages;
import dev.nexus.core.nip77.Negentropy;
import dev.nexus.core.nip77.NegentropyException;
import dev.nexus.core.nip77.VectorStorage;
import dev.nexus.server.Session;
import dev.nexus.storage.EventStore;
import java.util.List;
import java.util.concurrent.Executor;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * NIP-77 negentropy syncing, relay side: NEG-OPEN loads the (created_at, id) of the events the
 * filter matches, streamed from the store in order, into a {@link VectorStorage} and answers the
 * initial message; NEG-MSG answers the next; NEG-CLOSE and disconnecting free the session.
 *
 * <p>The same rules as REQ: NIP-42 auth and the REQ budget at NEG-OPEN, expired and deleted
 * events excluded (the store never returns them). A filter covering more than
 * {@code max_negentropy_events} is refused with {@code blocked:} before anything is held; a
 * connection holds at most {@code max_negentropy_sessions} sessions, each answering one message
 * at a time. Replies stay under half of {@code max_message_bytes} of binary (hex doubles it).
 */
public final class Nip77Handler {
    private static final Logger log = LoggerFactory.getLogger(Nip77Handler.class);

    private final NexusConfig.Limits limits;
    private final EventStore store;
    private final Executor queryWorkers;
    private final ReadRefusal readRefusal;
    private final long frameSizeLimit;

    /** REQ's rule: why this connection may not read these filters now (auth, budget), or null. */
    @FunctionalInterface
    public interface ReadRefusal {
        String why(Session s, String verb, List<Filter> filters);
    }

    public Nip77Handler(NexusConfig.Limits limits, EventStore store, Executor queryWorkers, ReadRefusal readRefusal) {
        this.limits = limits;
        this.store = store;
        this.queryWorkers = queryWorkers;
        this.readRefusal = readRefusal;
        this.frameSizeLimit = Math.max(Negentropy.MIN_FRAME_SIZE_LIMIT, limits.maxMessageBytes() / 2 - 256);
    }

    /** On the session's event loop. */
    public void onOpen(Session s, ClientMessage.NegentropyOpen open) {
        String subId = open.subscriptionId();
        NegentropySessions sessions = s.negentropy();
        if (!limits.negentropyEnabled()) {
            s.send(RelayMessages.negentropyError(subId, "blocked: negentropy syncing (NIP-77) is disabled on this relay"));
            return;
        }
        sessions.close(subId); // NIP-77: a NEG-OPEN for an open id closes that session first
        String refusal = readRefusal.why(s, "NEG-OPEN", List.of(open.filter()));
        if (refusal != null) {
            s.send(RelayMessages.negentropyError(subId, refusal));
            return;
        }
        if (sessions.size() >= limits.maxNegentropySessions()) {
            s.send(RelayMessages.negentropyError(subId,
                    "rate-limited: too many open negentropy sessions (max " + limits.maxNegentropySessions() + ")"));
            return;
        }
        byte[] initial = decode(s, subId, open.messageHex());
        if (initial == null) return;
        NegentropySessions.Entry entry = sessions.open(subId);
        queryWorkers.execute(() -> load(s, entry, open, initial));
    }

    /** On the session's event loop. */
    public void onMessage(Session s, ClientMessage.NegentropyMessage message) {
        String subId = message.subscriptionId();
        NegentropySessions sessions = s.negentropy();
        NegentropySessions.Entry entry = sessions.get(subId);
        if (entry == null) {
            s.send(RelayMessages.negentropyError(subId, "closed: no open negentropy session with this id"));
            return;
        }
        if (entry.working()) {
            sessions.close(entry);
            s.send(RelayMessages.negentropyError(subId, "invalid: NEG-MSG sent before the relay answered the previous message"));
            return;
        }
        byte[] query = decode(s, subId, message.messageHex());
        if (query == null) {
            sessions.close(entry);
            return;
        }
        entry.startWork();
        Negentropy responder = entry.responder();
        queryWorkers.execute(() -> answer(s, entry, responder, query));
    }

    /** On the session's event loop. */
    public void onClose(Session s, String subscriptionId) {
        s.negentropy().close(subscriptionId);
    }

    public void onDisconnect(Session s) {
        s.negentropy().closeAll();
    }

    /** On a query worker: stream the ids in, refuse an oversized set, answer the initial message. */
    private void load(Session s, NegentropySessions.Entry entry, ClientMessage.NegentropyOpen open, byte[] initial) {
        if (entry.closed() || !s.channel().isActive()) return;
        int max = limits.maxNegentropyEvents();
        VectorStorage.Builder items = VectorStorage.builder();
        int seen;
        try {
            seen = store.scanIdsAscending(open.filter(), System.currentTimeMillis() / 1000, max + 1, (createdAt, id) -> {
                if (items.size() < max) items.add(createdAt, Hex.decode(id));
            });
        } catch (RuntimeException e) {
            log.error("negentropy id scan for {} failed: {}", open.subscriptionId(), e.toString());
            finish(s, entry, RelayMessages.negentropyError(entry.subscriptionId, "error: could not read the events for this filter"), null);
            return;
        }
        if (seen > max) {
            finish(s, entry, RelayMessages.negentropyError(entry.subscriptionId,
                    "blocked: this filter covers more than " + max + " events; narrow it (since/until, kinds, authors)"), null);
            return;
        }
        Negentropy responder = new Negentropy(items.build(), frameSizeLimit);
        answer(s, entry, responder, initial);
    }

    /** On a query worker: one reply; the result goes back to the event loop. */
    private void answer(Session s, NegentropySessions.Entry entry, Negentropy responder, byte[] query) {
        if (entry.closed() || responder == null) return;
        String reply;
        try {
            reply = RelayMessages.negentropyMessage(entry.subscriptionId, Hex.encode(responder.respond(query)));
        } catch (NegentropyException e) {
            finish(s, entry, RelayMessages.negentropyError(entry.subscriptionId, "invalid: " + e.getMessage()), null);
            return;
        }
        finish(s, entry, reply, responder);
    }

    /** Back on the event loop: send unless the session was closed or replaced meanwhile; {@code responder} null ends it. */
    private static void finish(Session s, NegentropySessions.Entry entry, String frame, Negentropy responder) {
        s.channel().eventLoop().execute(() -> {
            NegentropySessions sessions = s.negentropy();
            if (!sessions.isCurrent(entry)) return;
            if (responder == null) sessions.close(entry);
            else entry.ready(responder);
            s.send(frame);
        });
    }

    private static byte[] decode(Session s, String subId, String hex) {
        try {
            return Hex.decode(hex);
        } catch (IllegalArgumentException e) {
            s.send(RelayMessages.negentropyError(subId, "invalid: the negentropy message must be lowercase hex"));
            return null;
        }
    }
}
