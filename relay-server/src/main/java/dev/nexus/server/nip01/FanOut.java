package dev.nexus.server.nip01;

import dev.nexus.core.Event;
import dev.nexus.server.HiddenAuthors;
import dev.nexus.server.RestrictedKinds;
import dev.nexus.server.Session;
import io.netty.channel.EventLoop;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.LongConsumer;
import java.util.function.LongSupplier;
import java.util.function.Predicate;

/**
 * Live fan-out: matches one committed (or ephemeral) event against every open subscription and
 * hands the shared event bytes to the matching connections' event loops. Runs on the live feed's
 * thread, never on the writer; restricted kinds reach only their author or recipients.
 *
 * <p>Writes are coalesced per connection per event-loop turn (strfry and uWebSockets cork the same
 * way): each event loop has one queue of matched events and at most one delivery run scheduled.
 * An event that finds the loop idle is written at once, one flush per connection. Events that
 * arrive while a run waits (the loop is busy, or the writer committed a batch) are written by that
 * run into one buffer per connection, handed to the channel and flushed once: one outbound entry
 * and one socket write for all of them instead of one per event.
 *
 * <p>A loop that ran a delivery less than {@code live_coalesce_millis} ago (default 10) holds the
 * next run for that long, so that under load several events share each connection's write; an
 * event that finds the loop quiet for longer, and job traffic ({@code [marketplace]} kinds) that
 * matches at most {@value #URGENT_MAX_SUBSCRIBERS} subscriptions on the loop, is written at once.
 * W2 (500 events/s to 200 subscribers), five interleaved pairs: relay CPU per 1k deliveries −26%,
 * the subscribers' CPU −28%, p99 no worse; at 20 events/s the p50 is unchanged (a fixed 5 ms hold
 * added 5 ms there). An earlier try that released the held run 4 ms after the previous one, not
 * after the event, carried too few events per run to pay (−15% relay, −5% client CPU). The default
 * went from 5 to 10 ms after W2 on a slower machine, four interleaved pairs: relay CPU per delivery
 * −12 to −27%, subscribers' CPU −9 to −33%, and p99 lower in every pair (the relay and its
 * subscribers no longer saturate two cores). See docs/PERFORMANCE.md.
 */
public final class FanOut {
    /** Events one run writes before it lets the loop do socket I/O again (the rest go to the next run). */
    public static final int MAX_EVENTS_PER_RUN = 256;
    /** Job traffic matching at most this many subscriptions on a loop is never held back. */
    static final int URGENT_MAX_SUBSCRIBERS = 16;

    private final SubscriptionIndex index;
    private final RestrictedKinds restricted;
    private final HiddenAuthors hidden;
    private final Map<EventLoop, LoopDeliveries> loops = new ConcurrentHashMap<>();
    private final long holdNanos;
    private final Predicate<Event> urgent;
    private final LongSupplier nanoClock;
    /** Told, per event and loop, the nanoseconds from {@link #publish} to the flush into its subscribers' connections. */
    private final LongConsumer delayObserver;

    /**
     * @param holdMillis how long a loop that has just delivered holds its next delivery run to
     *                   gather more events (0: every event is written at once)
     * @param urgent     events not held back when they go to a few subscribers (job traffic)
     */
    public FanOut(SubscriptionIndex index, RestrictedKinds restricted, HiddenAuthors hidden, int holdMillis, Predicate<Event> urgent,
                  LongSupplier nanoClock) {
        this(index, restricted, hidden, holdMillis, urgent, nanoClock, nanos -> { });
    }

    /** @param delayObserver told, per event and event loop, the nanoseconds from publish to the flush into its subscribers' connections */
    public FanOut(SubscriptionIndex index, RestrictedKinds restricted, HiddenAuthors hidden, int holdMillis, Predicate<Event> urgent,
                  LongSupplier nanoClock, LongConsumer delayObserver) {
        this.delayObserver = delayObserver;
        this.index = index;
        this.hidden = hidden;
        this.restricted = restricted;
        this.holdNanos = TimeUnit.MILLISECONDS.toNanos(holdMillis);
        this.urgent = urgent;
        this.nanoClock = nanoClock;
    }

    /** One index lookup, then the matches grouped by event loop and queued to each loop's delivery run. */
    public void publish(Event e) {
        if (hidden.hides(e)) return;
        boolean jobTraffic = holdNanos > 0 && urgent.test(e);
        long published = nanoClock.getAsLong();
        ByLoop byLoop = new ByLoop();
        boolean isRestricted = restricted.isRestricted(e);
        index.forEachMatch(e, sub -> {
            if (!isRestricted || restricted.visibleTo(sub.session().authenticatedPubkeys(), e)) byLoop.add(sub);
        });
        for (int i = 0; i < byLoop.loops.size(); i++) {
            List<Subscription> subs = byLoop.subs.get(i);
            // Job traffic to a few subscribers (a request to its providers, a result to its customer) is
            // written at once; a broadcast to many shares writes like any other event under load.
            boolean now = holdNanos == 0 || (jobTraffic && subs.size() <= URGENT_MAX_SUBSCRIBERS);
            loops.computeIfAbsent(byLoop.loops.get(i), LoopDeliveries::new).add(new Matched(e, subs, published), now);
        }
    }

    /**
     * One event's matches grouped by their connections' event loops, found by a scan: there are few
     * loops (the I/O threads), and a scan was cheaper than a map per match in the W2 profile.
     */
    private static final class ByLoop {
        final List<EventLoop> loops = new ArrayList<>(4);
        final List<List<Subscription>> subs = new ArrayList<>(4);

        void add(Subscription sub) {
            EventLoop loop = sub.session().channel().eventLoop();
            for (int i = 0; i < loops.size(); i++) {
                if (loops.get(i) == loop) {
                    subs.get(i).add(sub);
                    return;
                }
            }
            loops.add(loop);
            List<Subscription> list = new ArrayList<>();
            list.add(sub);
            subs.add(list);
        }
    }

    /** One event, the subscriptions on one loop that it matched, and when it was published (nanoClock). */
    private record Matched(Event event, List<Subscription> subs, long publishedNanos) {}

    /** The matched events waiting for one event loop, in commit order, and its delivery run. */
    private final class LoopDeliveries implements Runnable {
        private final EventLoop loop;
        private final Queue<Matched> pending = new ConcurrentLinkedQueue<>();
        private final AtomicBoolean scheduled = new AtomicBoolean();
        /** Whether the scheduled run is a held one (a timer), which an urgent event does not wait for. */
        private volatile boolean held;
        private volatile long lastRunNanos;
        private volatile boolean ranOnce;
        /**
         * Events a run had taken when delivering an earlier one threw (out of direct memory, say): the
         * next run starts with them. At most one run's worth; touched on the loop only.
         */
        private final ArrayDeque<Matched> carried = new ArrayDeque<>();

        LoopDeliveries(EventLoop loop) {
            this.loop = loop;
        }

        void add(Matched m, boolean now) {
            pending.add(m);
            if (scheduled.compareAndSet(false, true)) {
                boolean recent = ranOnce && nanoClock.getAsLong() - lastRunNanos < holdNanos;
                if (now || !recent) {
                    held = false;
                    loop.execute(this);
                } else {
                    held = true;
                    loop.schedule(this, holdNanos, TimeUnit.NANOSECONDS);
                }
            } else if (now && held) {
                // A run is held for company: this event does not wait for it (the timer's run later finds what is left).
                held = false;
                loop.execute(this);
            }
        }

        @Override
        public void run() {
            // Cleared first (held before scheduled, so a run held after this point is marked as such): an
            // event queued from here on either is written by this run or schedules the next.
            held = false;
            scheduled.set(false);
            lastRunNanos = nanoClock.getAsLong();
            ranOnce = true;
            List<Session> owed = new ArrayList<>();
            List<Matched> taken = new ArrayList<>();
            while (taken.size() < MAX_EVENTS_PER_RUN && !carried.isEmpty()) taken.add(carried.poll());
            for (Matched m; taken.size() < MAX_EVENTS_PER_RUN && (m = pending.poll()) != null; ) taken.add(m);
            // Every connection's frames are announced first, so that its batch is allocated once.
            for (Matched m : taken) {
                for (Subscription sub : m.subs()) sub.session().planLiveFrame(sub, m.event());
            }
            int next = 0;
            try {
                while (next < taken.size()) {
                    Matched m = taken.get(next++);
                    for (Subscription sub : m.subs()) {
                        Session s = sub.session();
                        if (s.deliverWithoutFlush(sub, m.event())) owed.add(s);
                    }
                }
            } finally {
                // Whatever happened, no connection keeps a half-built batch that no run would hand over.
                for (Session s : owed) s.flushLiveBatch();
                // The event whose delivery threw has reached some of its subscribers and is not tried
                // again; the ones behind it wait for the next run, as they did in the queue.
                for (int i = taken.size() - 1; i >= next; i--) carried.addFirst(taken.get(i));
                // Here, not after: a throw would skip it, and events past this run's 256 would wait in the
                // queue for the next publish (one queued after the start of this run schedules itself).
                if ((!carried.isEmpty() || !pending.isEmpty()) && scheduled.compareAndSet(false, true)) loop.execute(this);
            }
            long flushed = nanoClock.getAsLong();
            for (Matched w : taken) delayObserver.accept(flushed - w.publishedNanos());
        }
    }
}
