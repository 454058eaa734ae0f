package dev.nexus.server;

import dev.nexus.core.Event;
import dev.nexus.core.RelayMessages;
import dev.nexus.server.metrics.RelayMetrics;
import dev.nexus.server.nip01.Subscription;
import dev.nexus.server.nip42.AuthBudget;
import dev.nexus.server.nip77.NegentropySessions;
import dev.nexus.server.policy.ConnectionView;
import dev.nexus.storage.StoredEvent;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelOutboundBuffer;
import io.netty.handler.codec.http.websocketx.CloseWebSocketFrame;
import io.netty.handler.codec.http.websocketx.TextWebSocketFrame;
import io.netty.util.AttributeKey;
import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.IntFunction;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Everything Nexus knows about one WebSocket connection, held as a channel attribute.
 * Subscriptions and the stored-results queue are only touched on the channel's event loop;
 * the authenticated pubkeys are read from verifier and writer threads too.
 */
public final class Session implements ConnectionView {
    static final AttributeKey<Session> KEY = AttributeKey.valueOf("nexus.session");
    private static final Logger log = LoggerFactory.getLogger(Session.class);
    /** Live events held for one subscription while its stored results are still being sent. */
    private static final int MAX_HELD_LIVE_EVENTS = 10_000;
    /** A fan-out run's batch for one connection is handed to the socket once it holds this much. */
    static final int LIVE_BATCH_MAX_BYTES = 32 * 1024;

    private final Channel channel;
    private final String remoteIp;
    private final String challenge;
    private final long maxOutboundBytes;
    private final Set<String> authenticated = ConcurrentHashMap.newKeySet();
    private final Set<String> authenticatedView = java.util.Collections.unmodifiableSet(authenticated);
    private final Map<String, Subscription> subscriptions = new HashMap<>();
    private final ArrayDeque<StoredResults> storedQueue = new ArrayDeque<>();
    private final AtomicInteger eventsInFlight = new AtomicInteger();
    private final NegentropySessions negentropy = new NegentropySessions();
    private final AuthBudget.Account authAccount = new AuthBudget.Account();
    /** Set once, by whichever of closeWith and the slow-consumer cut-off comes first (any thread). */
    private final java.util.concurrent.atomic.AtomicBoolean closing = new java.util.concurrent.atomic.AtomicBoolean();
    private final Outbox outbox;
    private final RelayMetrics metrics;

    /** A query's stored results on their way out, paced by writability: the next event to write, and whether EOSE is written. Event loop only. */
    private static final class StoredResults {
        final Subscription sub;
        final List<StoredEvent> events;
        int next;
        boolean eoseWritten;

        StoredResults(Subscription sub, List<StoredEvent> events) {
            this.sub = sub;
            this.events = events;
        }
    }

    Session(Channel channel, String remoteIp, String challenge, long maxOutboundBytes, RelayMetrics metrics) {
        this.metrics = metrics;
        this.channel = channel;
        this.outbox = new Outbox(channel);
        this.remoteIp = remoteIp;
        this.challenge = challenge;
        this.maxOutboundBytes = maxOutboundBytes;
        this.liveBatchBytes = (int) Math.max(1024, Math.min(LIVE_BATCH_MAX_BYTES, maxOutboundBytes / 4));
    }

    public Channel channel() { return channel; }
    @Override public String remoteIp() { return remoteIp; }
    public String challenge() { return challenge; }
    /** Only AUTH (NIP-42) calls this, once the AUTH event has been checked. */
    public void markAuthenticated(String pubkey) { authenticated.add(pubkey); }

    /** Whether this connection's stored job traffic is still verified on its event loop (until its first bad signature); event loop only. */
    private boolean jobsVerifiedOnLoop = true;
    public boolean jobsVerifiedOnLoop() { return jobsVerifiedOnLoop; }
    public void stopVerifyingJobsOnLoop() { jobsVerifiedOnLoop = false; }
    @Override public Set<String> authenticatedPubkeys() { return authenticatedView; }
    @Override public boolean isAuthenticated() { return !authenticated.isEmpty(); }
    public boolean hasSubscription(String id) { return subscriptions.containsKey(id); }
    public int subscriptionCount() { return subscriptions.size(); }
    /** One more EVENT read and not yet answered; returns how many are now in flight. */
    public int eventInFlight() { return eventsInFlight.incrementAndGet(); }
    /** One EVENT answered; returns how many are still in flight. */
    public int eventAnswered() { return eventsInFlight.decrementAndGet(); }
    /** NIP-77 sessions; event loop only. */
    public NegentropySessions negentropy() { return negentropy; }
    public AuthBudget.Account authAccount() { return authAccount; }

    /** Closes the connection with a reason, after what was already queued for it. */
    public void closeWith(int code, String reason) {
        if (!closing.compareAndSet(false, true)) return;
        LingeringClose.close(channel, new CloseWebSocketFrame(code, reason));
    }

    /** Closes after the connection used up its failed NIP-42 AUTH attempts (counted in the minute's summary of closes). */
    public void closeAfterFailedAuths() {
        ConnectionCloses.mark(channel, ConnectionCloses.Reason.AUTH_FAILURES);
        closeWith(1008, "too many failed AUTH attempts");
    }

    /**
     * Sends one text frame; safe from any thread. On the event loop it is written at once; from
     * another thread (OKs from the writer and the verifiers) it joins the connection's
     * {@link Outbox}.
     */
    public void send(String text) {
        metrics.sent(text);
        if (channel.eventLoop().inEventLoop()) {
            if (channel.isActive()) channel.writeAndFlush(new TextWebSocketFrame(text), channel.voidPromise());
            return;
        }
        outbox.add(text);
    }

    /**
     * Live frames written by the current fan-out run, not yet handed to the channel: a run that
     * delivers several events to this connection hands them over as one buffer (one outbound
     * entry, one socket write). Handed over early once it holds {@link #liveBatchBytes}, so that
     * the outbound bound keeps measuring what the client leaves unread, not what a burst queued.
     * Event loop only, like {@link #inLiveRun}.
     */
    private ByteBuf liveBatch;
    private boolean inLiveRun;
    private final int liveBatchBytes;
    /**
     * Bytes of frames the current run has announced for this connection ({@link #planLiveFrame}) and
     * not yet written: its batch is allocated once, big enough. Growing it frame by frame (1, 2, 4
     * KiB..., a copy each time) was a twentieth of the event loops' time in the W2 profile.
     */
    private long plannedLiveBytes;
    /** Live frames written by the current run, counted in the metrics once at its end. */
    private int liveFramesInRun;

    /** Announces a frame the current fan-out run will deliver to this connection; event loop only. */
    public void planLiveFrame(Subscription sub, Event event) {
        plannedLiveBytes += WebSocketTextFrames.frameLength(sub.eventPrefix(), event.jsonUtf8());
    }

    /**
     * Adds a live event for one subscription of this connection to the current run's batch;
     * event loop only. Returns true when this is the run's first frame for the connection: the
     * caller then owes it one {@link #flushLiveBatch()} at the end of the run.
     */
    public boolean deliverWithoutFlush(Subscription sub, Event event) {
        byte[] prefix = sub.eventPrefix();
        byte[] json = event.jsonUtf8();
        int frame = WebSocketTextFrames.frameLength(prefix, json);
        plannedLiveBytes -= frame;
        if (closing.get() || sub.cancelled()) return false;
        if (!sub.storedSent()) {
            if (!sub.holdUntilEose(event, MAX_HELD_LIVE_EVENTS)) disconnectSlowConsumer();
            return false;
        }
        if (pendingOutboundBytes() > maxOutboundBytes) {
            disconnectSlowConsumer();
            return false;
        }
        // A frame that would not fit sends what the batch holds first, rather than grow (and copy) it.
        if (liveBatch != null && liveBatch.writableBytes() < frame) handOverLiveBatch();
        if (liveBatch == null) liveBatch = channel.alloc().buffer(liveBatchCapacity(frame));
        WebSocketTextFrames.writeEventFrame(liveBatch, prefix, json);
        liveFramesInRun++;
        if (liveBatch.readableBytes() >= liveBatchBytes) handOverLiveBatch();
        if (inLiveRun) return false;
        inLiveRun = true;
        return true;
    }

    /**
     * Room for this frame and the rest the run announced, up to {@link #liveBatchBytes}, rounded up
     * to a power of two from 1 KiB: the sizes a batch grown frame by frame ended at. Exact sizes
     * made the allocator's per-thread caches hold buffers of many more size classes (a fresh relay
     * 3.5 MiB larger after its warm-up).
     */
    private int liveBatchCapacity(int frame) {
        int wanted = (int) Math.max(1024, Math.min(liveBatchBytes, frame + Math.max(0, plannedLiveBytes)));
        int powerOfTwo = Integer.highestOneBit(wanted - 1) << 1;
        return Math.max(frame, Math.min(liveBatchBytes, powerOfTwo));
    }

    /** Ends this connection's part of a fan-out run: writes and flushes its batch; event loop only. */
    public void flushLiveBatch() {
        inLiveRun = false;
        plannedLiveBytes = 0;
        if (liveFramesInRun > 0) {
            metrics.liveEventsSent(liveFramesInRun);
            liveFramesInRun = 0;
        }
        handOverLiveBatch();
    }

    private void handOverLiveBatch() {
        ByteBuf batch = liveBatch;
        liveBatch = null;
        if (batch == null) return;
        if (closing.get() || !channel.isActive()) {
            batch.release();
            return;
        }
        channel.writeAndFlush(batch, channel.voidPromise());
    }

    private long pendingOutboundBytes() {
        ChannelOutboundBuffer out = channel.unsafe().outboundBuffer();
        return out == null ? 0 : out.totalPendingWriteBytes();
    }

    /** Queues a REQ's stored results, then EOSE and the live events held meanwhile; call on the event loop. */
    public void sendStored(Subscription sub, List<StoredEvent> events) {
        if (closing.get() || sub.cancelled()) return;
        sub.rememberStored(events);
        storedQueue.add(new StoredResults(sub, events));
        drainStored();
    }

    /**
     * Writes queued stored results while the channel stays writable; resumes on writability. The
     * frames share buffers of up to {@link #liveBatchBytes} (one outbound entry and one allocation
     * per buffer, not per event: W3 returns ~40 events per query), each sized exactly to what it
     * holds, because the outbound bounds count written bytes, not buffer capacity. Writability is
     * checked before each buffer, so a client that stops reading leaves at most one buffer past the
     * high water mark per drain.
     */
    void drainStored() {
        if (closing.get()) {
            // After the relay's close frame Netty drops every write; building them would be waste.
            storedQueue.clear();
            return;
        }
        boolean wrote = false;
        while (!storedQueue.isEmpty() && channel.isActive()) {
            StoredResults r = storedQueue.peek();
            while (!r.eoseWritten) {
                if (!channel.isWritable()) {
                    if (wrote) channel.flush();
                    return;
                }
                writeStoredBuffer(r);
                wrote = true;
            }
            // Nothing in a drain reads from the socket, so r is still the head; checked all the same,
            // so that a cancellation (which removes its entry) can never make this poll another's.
            if (storedQueue.peek() == r) storedQueue.poll();
            if (r.sub.cancelled()) continue;
            // Held live events are bounded in number (MAX_HELD_LIVE_EVENTS); written in buffers of
            // liveBatchBytes so that the outbound budget sees them one buffer at a time.
            writeInBuffers(r.sub, r.sub.releaseAfterEose());
        }
        if (wrote) channel.flush();
    }

    /** Writes the next buffer of a query's stored frames, with EOSE after the last. */
    private void writeStoredBuffer(StoredResults r) {
        r.next = writeFrameBuffer(r.sub, i -> r.events.get(i).json(), r.next, r.events.size(), RelayMessages.eose(r.sub.id()));
        if (r.next == r.events.size()) {
            r.eoseWritten = true;
            metrics.sentEose();
        }
    }

    /** Writes live events for one subscription in buffers of up to liveBatchBytes; no flush. */
    private void writeInBuffers(Subscription sub, List<Event> events) {
        for (int from = 0; from < events.size() && channel.isActive(); ) {
            from = writeFrameBuffer(sub, i -> events.get(i).jsonUtf8(), from, events.size(), null);
        }
    }

    /**
     * Writes one buffer, sized exactly, of EVENT frames for {@code sub}: events {@code from} on, as
     * many as fit in liveBatchBytes (one at least), then {@code trailerAtEnd} if they reach
     * {@code size} (and it is not null). Returns the index after the last event written.
     */
    private int writeFrameBuffer(Subscription sub, IntFunction<byte[]> jsonAt, int from, int size, String trailerAtEnd) {
        byte[] prefix = sub.eventPrefix();
        int to = from;
        int bytes = 0;
        while (to < size) {
            int frame = WebSocketTextFrames.frameLength(prefix, jsonAt.apply(to));
            if (to > from && bytes + frame > liveBatchBytes) break;
            bytes += frame;
            to++;
        }
        String trailer = to == size ? trailerAtEnd : null;
        if (trailer != null) bytes += WebSocketTextFrames.textFrameLength(trailer);
        ByteBuf buf = channel.alloc().buffer(bytes);
        try {
            for (int i = from; i < to; i++) WebSocketTextFrames.writeEventFrame(buf, prefix, jsonAt.apply(i));
            if (trailer != null) WebSocketTextFrames.writeTextFrame(buf, trailer);
        } catch (RuntimeException e) {
            buf.release();
            throw e;
        }
        metrics.sentEvents(to - from);
        channel.write(buf, channel.voidPromise());
        return to;
    }

    /** Adds a subscription, replacing (and cancelling) one with the same id; returns the replaced one or null. */
    public Subscription putSubscription(Subscription sub) {
        Subscription replaced = subscriptions.put(sub.id(), sub);
        if (replaced != null) cancel(replaced);
        return replaced;
    }

    /** Removes and cancels the subscription with this id; returns it, or null. */
    public Subscription removeSubscription(String id) {
        Subscription removed = subscriptions.remove(id);
        if (removed != null) cancel(removed);
        return removed;
    }

    /** Removes and cancels every subscription (the connection is gone); returns them. */
    public List<Subscription> removeAllSubscriptions() {
        List<Subscription> all = List.copyOf(subscriptions.values());
        subscriptions.clear();
        for (Subscription sub : all) sub.cancel();
        storedQueue.clear();
        return all;
    }

    /** A cancelled subscription's stored results still waiting to be written are dropped at once, not when their turn comes. */
    private void cancel(Subscription sub) {
        sub.cancel();
        storedQueue.removeIf(r -> r.sub == sub);
    }

    private void disconnectSlowConsumer() {
        metrics.liveEventDropped();
        if (!closing.compareAndSet(false, true)) return;
        ConnectionCloses.mark(channel, ConnectionCloses.Reason.SLOW_CONSUMER);
        log.debug("disconnecting slow consumer {} ({} bytes queued)", remoteIp, pendingOutboundBytes()); // summed up once a minute
        channel.write(new TextWebSocketFrame(RelayMessages.notice("error: too slow reading events; disconnecting")));
        channel.writeAndFlush(new CloseWebSocketFrame(1008, "slow consumer")).addListener(ChannelFutureListener.CLOSE);
    }

    public boolean isClosing() {
        return closing.get();
    }
}
