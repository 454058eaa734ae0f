package dev.nexus.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.nexus.config.NexusConfig;
import dev.nexus.core.Event;
import dev.nexus.core.Filter;
import dev.nexus.core.testing.NostrKey;
import dev.nexus.server.metrics.RelayMetrics;
import dev.nexus.server.nip01.Subscription;
import dev.nexus.storage.StoredEvent;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.channel.embedded.EmbeddedChannel;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * A REQ's stored events on an EmbeddedChannel: they share socket writes (not one write per event),
 * arrive in order before their EOSE, and stop while the client does not read. The bytes are decoded
 * with Netty's own WebSocket decoder, an independent reading of RFC 6455.
 */
class StoredResultsEmbeddedTest {
    private final NostrKey author = NostrKey.generate();
    private final NexusConfig config = NexusConfig.defaults();
    private final RelayMetrics metrics = new RelayMetrics(config.metrics(), config.marketplace().kinds());
    private EmbeddedChannel channel;

    @BeforeEach
    void open() {
        channel = new EmbeddedChannel();
    }

    @AfterEach
    void close() {
        channel.finishAndReleaseAll();
    }

    private List<Event> notes(int n) {
        List<Event> events = new ArrayList<>();
        for (int i = 0; i < n; i++) events.add(author.sign(1, List.of(List.of("t", "stored")), "stored note " + i + " " + "x".repeat(200), 1_700_000_000L - i));
        return events;
    }

    private static List<StoredEvent> stored(List<Event> events) {
        return events.stream().map(e -> new StoredEvent(e.id(), e.createdAt(), e.jsonUtf8())).toList();
    }

    private Subscription subscription(Session session, String id) {
        Subscription sub = new Subscription(session, id, List.of(new Filter(null, null, Set.of(1), null, null, null, null)));
        session.putSubscription(sub);
        return sub;
    }



    private static List<String> expected(String subId, List<Event> events, boolean eose) {
        List<String> frames = new ArrayList<>();
        for (Event e : events) frames.add("[\"EVENT\",\"" + subId + "\"," + e.json() + "]");
        if (eose) frames.add("[\"EOSE\",\"" + subId + "\"]");
        return frames;
    }

    @Test
    void aQuerysStoredEventsThenItsEoseReachTheSocketInOrderInAFewSharedWrites() {
        Session session = new Session(channel, "203.0.113.7", "challenge", 8 << 20, metrics);
        List<Event> found = notes(80); // ~ 46 KB of frames, under the channel's high water mark (64 KiB)
        session.sendStored(subscription(session, "q1"), stored(found));

        List<ByteBuf> writes = WireFrames.writesToSocket(channel);
        assertTrue(writes.size() <= 2, "80 events and EOSE in " + writes.size() + " socket writes, not one per event");
        assertEquals(expected("q1", found, true), WireFrames.framesIn(writes));
    }

    @Test
    void aClientThatStopsReadingGetsNoMoreStoredFramesUntilTheChannelIsWritableAgain() {
        channel.config().setWriteBufferWaterMark(new WriteBufferWaterMark(20 * 1024, 40 * 1024));
        Session session = new Session(channel, "203.0.113.7", "challenge", 8 << 20, metrics);
        List<Event> found = notes(600); // ~ 250 KB of frames
        List<ByteBuf> writes = new ArrayList<>();
        // Nothing is flushed to the socket while the drain fills the outbound buffer past its high water mark.
        session.sendStored(subscription(session, "q2"), stored(found));
        writes.addAll(WireFrames.writesToSocket(channel));
        List<String> first = WireFrames.framesIn(new ArrayList<>(writes.stream().map(ByteBuf::retainedDuplicate).toList()));
        assertTrue(first.size() < found.size(), "the drain stopped at the high water mark after " + first.size() + " frames");
        assertFalse(first.contains("[\"EOSE\",\"q2\"]"));

        while (writes.size() < 1000) {
            List<ByteBuf> more = WireFrames.writesToSocket(channel);
            session.drainStored(); // what channelWritabilityChanged does once the client has read
            more.addAll(WireFrames.writesToSocket(channel));
            if (more.isEmpty()) break;
            writes.addAll(more);
        }
        assertEquals(expected("q2", found, true), WireFrames.framesIn(writes), "resumed where it stopped, every event once, then EOSE");
    }

    @Test
    void aLiveEventHeldDuringTheQueryFollowsEoseUnlessItWasAlreadySentAsAStoredOne() {
        Session session = new Session(channel, "203.0.113.7", "challenge", 8 << 20, metrics);
        Subscription sub = subscription(session, "q3");
        List<Event> found = notes(3);
        Event alsoStored = found.get(1);
        Event onlyLive = author.sign(1, List.of(), "arrived while the query ran", 1_700_000_100L);
        assertTrue(sub.holdUntilEose(alsoStored, 10));
        assertTrue(sub.holdUntilEose(onlyLive, 10));

        session.sendStored(sub, stored(found));

        List<String> frames = expected("q3", found, true);
        frames.add("[\"EVENT\",\"q3\"," + onlyLive.json() + "]");
        assertEquals(frames, WireFrames.framesIn(WireFrames.writesToSocket(channel)), "stored events, EOSE, then the held event not among them, once");
    }

    @Test
    void smallResultsHoldNoMoreMemoryThanTheBytesTheOutboundBoundsCount() {
        // The high water mark and max_outbound_bytes count readable bytes, not capacity: a 16 KiB
        // buffer per one-event query let a client that never reads pin ~40x what was counted.
        channel.config().setAllocator(PooledByteBufAllocator.DEFAULT);
        Session session = new Session(channel, "203.0.113.7", "challenge", 8 << 20, metrics);
        long readable = 0;
        long capacity = 0;
        for (int i = 0; i < 100; i++) {
            Subscription sub = subscription(session, "s" + i);
            session.sendStored(sub, stored(List.of(author.sign(1, List.of(), "small " + i, 1_700_000_000L + i))));
            session.removeSubscription("s" + i);
            for (ByteBuf b : WireFrames.writesToSocket(channel)) {
                readable += b.readableBytes();
                capacity += b.capacity();
                b.release();
            }
        }
        assertTrue(capacity <= 2 * readable, "buffer capacity " + capacity + " for " + readable + " bytes written");
    }

    @Test
    void liveEventsHeldUntilEoseAreWrittenInBuffersOfBoundedSizeNotOneBufferForAll() {
        channel.config().setWriteBufferWaterMark(new WriteBufferWaterMark(20 * 1024, 40 * 1024));
        Session session = new Session(channel, "203.0.113.7", "challenge", 8 << 20, metrics);
        Subscription sub = subscription(session, "q4");
        List<Event> held = notes(2000);
        for (Event e : held) assertTrue(sub.holdUntilEose(e, 10_000));
        List<Event> found = List.of(author.sign(1, List.of(), "the one stored event", 1_600_000_000L));

        session.sendStored(sub, stored(found));

        List<ByteBuf> writes = WireFrames.writesToSocket(channel);
        int largest = writes.stream().mapToInt(ByteBuf::readableBytes).max().orElse(0);
        assertTrue(largest <= Session.LIVE_BATCH_MAX_BYTES + 1024, "largest single write " + largest + " bytes");
        List<String> frames = expected("q4", found, true);
        for (Event e : held) frames.add("[\"EVENT\",\"q4\"," + e.json() + "]");
        assertEquals(frames, WireFrames.framesIn(writes));
    }

    @Test
    void onceTheRelayHasClosedTheConnectionNoMoreStoredFramesAreBuilt() {
        channel.config().setWriteBufferWaterMark(new WriteBufferWaterMark(20 * 1024, 40 * 1024));
        Session session = new Session(channel, "203.0.113.7", "challenge", 8 << 20, metrics);
        session.sendStored(subscription(session, "q5"), stored(notes(600)));
        WireFrames.writesToSocket(channel).forEach(ByteBuf::release);

        session.closeWith(1008, "policy");
        for (Object o; (o = channel.readOutbound()) != null; ) io.netty.util.ReferenceCountUtil.release(o);
        session.drainStored(); // what a later writability event would do

        assertTrue(WireFrames.writesToSocket(channel).isEmpty(), "nothing written after the close frame");
    }
}
