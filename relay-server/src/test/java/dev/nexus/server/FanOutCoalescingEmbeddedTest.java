package dev.nexus.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.nexus.config.NexusConfig;
import dev.nexus.core.Event;
import dev.nexus.core.Filter;
import dev.nexus.core.testing.NostrKey;
import dev.nexus.server.metrics.RelayMetrics;
import dev.nexus.server.nip01.FanOut;
import dev.nexus.server.nip01.Subscription;
import dev.nexus.server.nip01.SubscriptionIndex;
import dev.nexus.server.policy.AccessControl;
import io.netty.buffer.AbstractByteBufAllocator;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.buffer.UnpooledDirectByteBuf;
import io.netty.channel.embedded.EmbeddedChannel;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Live fan-out on an EmbeddedChannel, whose event loop runs queued tasks only when the test says
 * so: that makes "the loop was busy while events arrived" a step the test controls. What reaches
 * the wire is decoded with Netty's own WebSocket decoder, so the hand-made frames are checked by
 * an independent implementation of RFC 6455.
 */
class FanOutCoalescingEmbeddedTest {
    private final NostrKey author = NostrKey.generate();
    private final NexusConfig config = NexusConfig.defaults();
    private final RelayMetrics metrics = new RelayMetrics(config.metrics(), config.marketplace().kinds());
    private final SubscriptionIndex index = new SubscriptionIndex(1000, 100_000);
    private final AtomicLong clock = new AtomicLong(1_000_000_000L);
    private final FanOut fanOut = fanOut(0);

    /** A fan-out whose delivery runs are held for holdMillis after a run, on the test's clock. */
    private FanOut fanOut(int holdMillis) {
        return new FanOut(index, RestrictedKinds.none(config.marketplace().kinds()), new HiddenAuthors(AccessControl.fromConfig(config)),
                holdMillis, e -> config.marketplace().kinds().isJobTraffic(e.kind()), clock::get);
    }

    /** Moves the test's clock and the embedded loop's timers together. */
    private void advanceMillis(long millis) {
        clock.addAndGet(TimeUnit.MILLISECONDS.toNanos(millis));
        channel.advanceTimeBy(millis, TimeUnit.MILLISECONDS);
    }
    private EmbeddedChannel channel;

    @BeforeEach
    void open() {
        channel = new EmbeddedChannel();
        channel.freezeTime();
    }

    @AfterEach
    void close() {
        channel.finishAndReleaseAll();
    }

    private Session subscribed(String subId, long maxOutboundBytes) {
        Session session = new Session(channel, "203.0.113.7", "challenge", maxOutboundBytes, metrics);
        Subscription sub = new Subscription(session, subId, List.of(new Filter(null, null, Set.of(1), null, null, null, null)));
        assertTrue(index.tryAdd(sub));
        session.putSubscription(sub);
        session.sendStored(sub, List.of());
        assertEquals(List.of("[\"EOSE\",\"" + subId + "\"]"), WireFrames.framesIn(WireFrames.writesToSocket(channel)));
        return session;
    }



    private static String eventFrame(String subId, Event e) {
        return "[\"EVENT\",\"" + subId + "\"," + e.json() + "]";
    }

    @Test
    void eventsThatArriveWhileTheLoopIsBusyReachAConnectionInOneSocketWriteInCommitOrder() {
        subscribed("feed", 1 << 20);
        List<Event> burst = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            Event e = author.sign(1, List.of(), "burst " + i);
            burst.add(e);
            fanOut.publish(e);
        }
        channel.runPendingTasks();
        List<ByteBuf> writes = WireFrames.writesToSocket(channel);
        assertEquals(1, writes.size(), "five events queued behind one delivery run go out as one write");
        List<String> expected = burst.stream().map(e -> eventFrame("feed", e)).toList();
        assertEquals(expected, WireFrames.framesIn(writes));
    }

    private final AtomicInteger buffers = new AtomicInteger();
    private final AtomicInteger regrowths = new AtomicInteger();
    private final AtomicBoolean failNextBuffer = new AtomicBoolean();
    private final AtomicBoolean failBuffersOver32KiB = new AtomicBoolean();

    /** Direct buffers that count themselves and their regrowths, and can fail once on demand. */
    private void countBuffers() {
        channel.config().setAllocator(new AbstractByteBufAllocator(true) {
            @Override
            protected ByteBuf newHeapBuffer(int initialCapacity, int maxCapacity) {
                throw new AssertionError("frames are built in direct buffers");
            }

            @Override
            protected ByteBuf newDirectBuffer(int initialCapacity, int maxCapacity) {
                if (failNextBuffer.getAndSet(false)) throw new IllegalStateException("no direct memory left (test)");
                if (failBuffersOver32KiB.get() && initialCapacity > 32 * 1024) throw new IllegalStateException("no direct memory left (test)");
                buffers.incrementAndGet();
                return new UnpooledDirectByteBuf(this, initialCapacity, maxCapacity) {
                    @Override
                    public ByteBuf capacity(int newCapacity) {
                        regrowths.incrementAndGet();
                        return super.capacity(newCapacity);
                    }
                };
            }

            @Override
            public boolean isDirectBufferPooled() {
                return false;
            }
        });
    }

    private List<Event> publishBurst(int events) {
        List<Event> burst = new ArrayList<>();
        for (int i = 0; i < events; i++) {
            Event e = author.sign(1, List.of(), "burst " + i + " " + "x".repeat(100 * i));
            burst.add(e);
            fanOut.publish(e);
        }
        return burst;
    }

    @Test
    void aRunBuildsAConnectionsFramesInOneBufferAllocatedOnceNeverGrownFrameByFrame() {
        countBuffers();
        subscribed("feed", 1 << 20);
        buffers.set(0);
        publishBurst(7);
        channel.runPendingTasks();
        List<ByteBuf> writes = WireFrames.writesToSocket(channel);
        assertEquals(1, writes.size());
        ByteBuf batch = writes.get(0);
        assertEquals(1, buffers.get(), "one buffer for the run's seven frames");
        assertEquals(0, regrowths.get(), "sized for the whole run when allocated, not grown (and copied) as frames came");
        assertTrue(batch.capacity() < 2 * batch.readableBytes(), "at most the next power of two: " + batch.capacity() + " for " + batch.readableBytes());
        assertEquals(7, WireFrames.framesIn(writes).size());
    }

    @Test
    void everyLiveFrameWrittenIsCountedOnceAsADeliveryAndAnEventSent() {
        subscribed("feed", 1 << 20);
        double deliveriesBefore = metrics.registry().get("nexus.fanout.deliveries").counter().count();
        double eventsOutBefore = metrics.registry().get("nexus.messages.out").tag("type", "EVENT").counter().count();
        publishBurst(5);
        channel.runPendingTasks();
        assertEquals(5, WireFrames.framesIn(WireFrames.writesToSocket(channel)).size());
        assertEquals(5.0, metrics.registry().get("nexus.fanout.deliveries").counter().count() - deliveriesBefore);
        assertEquals(5.0, metrics.registry().get("nexus.messages.out").tag("type", "EVENT").counter().count() - eventsOutBefore);
    }

    @Test
    void whenTheLastDeliveryOfAFullRunFailsTheEventsStillQueuedGoOutWithoutWaitingForAnotherPublish() {
        countBuffers();
        subscribed("feed", 1 << 20);
        Session other = new Session(channel, "203.0.113.8", "challenge", 1 << 20, metrics);
        Subscription big = new Subscription(other, "big", List.of(new Filter(null, null, Set.of(7), null, null, null, null)));
        assertTrue(index.tryAdd(big));
        other.putSubscription(big);
        other.sendStored(big, List.of());
        WireFrames.writesToSocket(channel).forEach(ByteBuf::release);

        List<Event> notes = new ArrayList<>();
        for (int i = 0; i < FanOut.MAX_EVENTS_PER_RUN - 1; i++) notes.add(author.sign(1, List.of(), "note " + i));
        notes.forEach(fanOut::publish);
        // The run's last event goes to the other connection alone, in a frame over 32 KiB: the only
        // buffer that large, so the test's allocator can fail exactly that delivery.
        fanOut.publish(author.sign(7, List.of(), "x".repeat(40_000)));
        List<Event> behind = new ArrayList<>();
        for (int i = 0; i < 44; i++) behind.add(author.sign(1, List.of(), "behind " + i));
        behind.forEach(fanOut::publish);
        failBuffersOver32KiB.set(true);

        channel.runPendingTasks();
        assertThrows(IllegalStateException.class, channel::checkException, "the run whose last delivery failed");
        List<ByteBuf> writes = WireFrames.writesToSocket(channel);
        channel.runPendingTasks();
        writes.addAll(WireFrames.writesToSocket(channel));
        List<Event> expected = new ArrayList<>(notes);
        expected.addAll(behind);
        assertEquals(expected.stream().map(e -> eventFrame("feed", e)).toList(), WireFrames.framesIn(writes),
                "the 44 events past the failed run's 256 go out with the next run, not with some later publish");
    }

    @Test
    void aRunLargerThanTheBatchLimitIsSentInBuffersWithinTheLimitNoneGrown() {
        countBuffers();
        subscribed("feed", 8192); // batches of at most 8192 / 4 = 2048 bytes
        List<Event> burst = publishBurst(7);
        channel.runPendingTasks();
        List<ByteBuf> writes = WireFrames.writesToSocket(channel);
        assertTrue(writes.size() > 1, "about 4.7 KB of frames in 2 KiB batches");
        for (ByteBuf b : writes) assertTrue(b.capacity() <= 2048, "capacity " + b.capacity());
        assertEquals(0, regrowths.get(), "a frame that does not fit sends the batch first");
        assertEquals(burst.stream().map(e -> eventFrame("feed", e)).toList(), WireFrames.framesIn(writes));
    }

    @Test
    void whenDeliveringOneEventFailsTheEventsBehindItStillReachTheConnection() {
        countBuffers();
        subscribed("feed", 1 << 20);
        List<Event> burst = publishBurst(4);
        failNextBuffer.set(true);
        channel.runPendingTasks();
        assertThrows(IllegalStateException.class, channel::checkException, "the run that failed");
        channel.runPendingTasks();
        assertEquals(burst.subList(1, 4).stream().map(e -> eventFrame("feed", e)).toList(), WireFrames.framesIn(WireFrames.writesToSocket(channel)),
                "the first event's delivery failed; the three behind it go out with the next run, in order");
    }

    @Test
    void anEventThatArrivesWhileTheLoopIsIdleIsWrittenAtOnceOnItsOwn() {
        subscribed("feed", 1 << 20);
        List<ByteBuf> writes = new ArrayList<>();
        List<String> expected = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            Event e = author.sign(1, List.of(), "quiet " + i);
            expected.add(eventFrame("feed", e));
            fanOut.publish(e);
            channel.runPendingTasks();
            List<ByteBuf> now = WireFrames.writesToSocket(channel);
            assertEquals(1, now.size(), "each event of a quiet relay is flushed by its own run, without waiting");
            writes.addAll(now);
        }
        assertEquals(expected, WireFrames.framesIn(writes));
    }

    @Test
    void underLoadEventsCloseBehindADeliveryShareOneWriteHeldNoLongerThanTheWindow() {
        FanOut held = fanOut(5);
        subscribed("feed", 1 << 20);
        List<String> expected = new ArrayList<>();
        Event first = author.sign(1, List.of(), "first");
        expected.add(eventFrame("feed", first));
        held.publish(first);
        channel.runPendingTasks();
        assertEquals(1, WireFrames.writesToSocket(channel).size(), "the first event after a quiet spell is written at once");

        List<Event> close = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            advanceMillis(1);
            Event e = author.sign(1, List.of(), "close " + i);
            close.add(e);
            held.publish(e);
            channel.runPendingTasks();
        }
        assertEquals(0, WireFrames.writesToSocket(channel).size(), "events 1-3 ms after a delivery wait for company");
        advanceMillis(2);
        channel.runPendingTasks();
        assertEquals(0, WireFrames.writesToSocket(channel).size(), "4 ms after the first of them they still wait");
        advanceMillis(1);
        channel.runPendingTasks();
        List<ByteBuf> writes = WireFrames.writesToSocket(channel);
        assertEquals(1, writes.size(), "and go out together, one write, 5 ms after the first of them");
        assertEquals(close.stream().map(e -> eventFrame("feed", e)).toList(), WireFrames.framesIn(writes));

        advanceMillis(6);
        Event later = author.sign(1, List.of(), "after a quiet spell");
        held.publish(later);
        channel.runPendingTasks();
        assertEquals(List.of(eventFrame("feed", later)), WireFrames.framesIn(WireFrames.writesToSocket(channel)), "a loop quiet for longer than the window writes at once");
    }

    @Test
    void eachEventsTimeFromPublishToFlushIsReportedTheHoldIncluded() {
        List<Long> delays = new ArrayList<>();
        FanOut held = new FanOut(index, RestrictedKinds.none(config.marketplace().kinds()), new HiddenAuthors(AccessControl.fromConfig(config)),
                5, e -> false, clock::get, delays::add);
        subscribed("feed", 1 << 20);
        held.publish(author.sign(1, List.of(), "after a quiet spell"));
        channel.runPendingTasks();
        for (int i = 0; i < 3; i++) {
            advanceMillis(1);
            held.publish(author.sign(1, List.of(), "close " + i));
            channel.runPendingTasks();
        }
        advanceMillis(3);
        channel.runPendingTasks();
        assertEquals(2, WireFrames.writesToSocket(channel).size(), "the first event at once, the three close ones together");
        assertEquals(List.of(0L, 5L, 4L, 3L), delays.stream().map(TimeUnit.NANOSECONDS::toMillis).toList(),
                "written at once: 0 ms; held for company: 5, 4 and 3 ms, published 1, 2 and 3 ms after the first");
    }

    @Test
    void jobTrafficIsNeverHeldBackAndTakesTheEventsWaitingBeforeItAlong() {
        FanOut held = fanOut(5);
        Session session = new Session(channel, "203.0.113.7", "challenge", 1 << 20, metrics);
        Subscription sub = new Subscription(session, "all", List.of(new Filter(null, null, Set.of(1, 5050), null, null, null, null)));
        assertTrue(index.tryAdd(sub));
        session.putSubscription(sub);
        session.sendStored(sub, List.of());
        assertEquals(List.of("[\"EOSE\",\"all\"]"), WireFrames.framesIn(WireFrames.writesToSocket(channel)));

        held.publish(author.sign(1, List.of(), "opens the window"));
        channel.runPendingTasks();
        WireFrames.writesToSocket(channel).forEach(ByteBuf::release);
        advanceMillis(1);
        Event note = author.sign(1, List.of(), "held");
        held.publish(note);
        channel.runPendingTasks();
        assertEquals(0, WireFrames.writesToSocket(channel).size(), "a note right behind a delivery is held");
        Event job = author.sign(5050, List.of(List.of("i", "2+2", "text")), "");
        held.publish(job);
        channel.runPendingTasks();
        assertEquals(List.of(eventFrame("all", note), eventFrame("all", job)), WireFrames.framesIn(WireFrames.writesToSocket(channel)),
                "a job request is written at once, in commit order behind what was waiting");
        advanceMillis(5);
        channel.runPendingTasks();
        assertEquals(0, WireFrames.writesToSocket(channel).size(), "the held run's timer finds nothing left to write");
    }

    @Test
    void aBurstLargerThanTheBatchIsHandedOverInPiecesAndAFastReaderIsNotMistakenForASlowOne() {
        long maxOutbound = 64 * 1024;
        Session session = subscribed("big", maxOutbound);
        List<String> expected = new ArrayList<>();
        for (int i = 0; i < 40; i++) {
            Event e = author.sign(1, List.of(), "x".repeat(8000) + i);
            expected.add(eventFrame("big", e));
            fanOut.publish(e);
        }
        channel.runPendingTasks();
        List<ByteBuf> writes = WireFrames.writesToSocket(channel);
        assertTrue(writes.size() > 1, "320 KB in one burst is written in pieces, not held in one buffer");
        for (ByteBuf w : writes) assertTrue(w.readableBytes() < maxOutbound, "one piece holds " + w.readableBytes() + " bytes");
        assertEquals(expected, WireFrames.framesIn(writes));
        assertTrue(channel.isActive() && !session.isClosing(), "a connection that keeps reading is not cut off by a burst");
    }

    @Test
    void framesOfEveryLengthEncodingDecodeToTheSameText() {
        byte[] prefix = "[\"EVENT\",\"s\",".getBytes(StandardCharsets.UTF_8);
        // Payload lengths around the 7-bit, 16-bit and 64-bit length encodings of RFC 6455 §5.2.
        for (int payload : new int[] {prefix.length + 3, 125, 126, 127, 65535, 65536, 70000}) {
            int jsonLength = payload - prefix.length - 1;
            byte[] json = ("\"" + "a".repeat(jsonLength - 2) + "\"").getBytes(StandardCharsets.UTF_8);
            ByteBuf buf = Unpooled.buffer();
            WebSocketTextFrames.writeEventFrame(buf, prefix, json);
            assertEquals(WebSocketTextFrames.frameLength(prefix, json), buf.readableBytes());
            List<String> texts = WireFrames.framesIn(List.of(buf));
            assertEquals(List.of(new String(prefix, StandardCharsets.UTF_8) + new String(json, StandardCharsets.UTF_8) + "]"), texts,
                    "payload of " + payload + " bytes");
        }
    }
}
