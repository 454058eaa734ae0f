package dev.nexus.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.nexus.config.NexusConfig;
import dev.nexus.core.Event;
import dev.nexus.core.SignatureVerifier;
import dev.nexus.core.SignatureVerifiers;
import dev.nexus.core.testing.NostrKey;
import dev.nexus.server.metrics.RelayMetrics;
import dev.nexus.server.nip01.SubscriptionIndex;
import dev.nexus.server.policy.AccessControl;
import dev.nexus.server.policy.Policies;
import dev.nexus.storage.LocalLiveFeed;
import dev.nexus.storage.RetentionPolicy;
import dev.nexus.storage.SqliteEventStore;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelOutboundHandlerAdapter;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.websocketx.TextWebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocket08FrameDecoder;
import io.netty.handler.codec.http.websocketx.WebSocketDecoderConfig;
import io.netty.util.ReferenceCountUtil;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Back-pressure without sockets, on Netty EmbeddedChannels: a client with too many EVENTs in
 * flight stops being read until half are answered; a client that does not read its answers stops
 * being read past the high-water mark and resumes once it reads; one that lets output pile up past
 * {@code max_outbound_bytes} is dropped.
 */
class BackPressureEmbeddedTest {
    /** EventIngest's per-connection bound, and where reading resumes. */
    private static final int MAX_IN_FLIGHT = 1024;
    private static final int RESUME_AT = MAX_IN_FLIGHT / 2;
    @TempDir Path dir;

    @Test
    void pastTheEventsInFlightBoundTheConnectionIsNotReadUntilHalfAreAnswered() throws Exception {
        NexusConfig config = NexusConfig.parse("[auth]\nrequired = false\n[rate_limits]\nexempt_ips = [\"203.0.113.9\"]\n");
        Semaphore verifications = new Semaphore(0);
        SignatureVerifier real = SignatureVerifiers.best();
        SignatureVerifier gated = new SignatureVerifier() {
            @Override
            public boolean verify(byte[] pubkey32, byte[] message32, byte[] signature64) {
                verifications.acquireUninterruptibly();
                return real.verify(pubkey32, message32, signature64);
            }

            @Override
            public String name() {
                return "gated";
            }
        };
        SimpleMeterRegistry meters = new SimpleMeterRegistry();
        RelayMetrics metrics = new RelayMetrics(config.metrics(), config.marketplace().kinds(), meters);
        SqliteEventStore store = new SqliteEventStore(dir.resolve("e.db"), "normal", 1, 256, RetentionPolicy.DEFAULT);
        LocalLiveFeed feed = new LocalLiveFeed(4096);
        TwoLaneExecutor verifiers = new TwoLaneExecutor("test-verify", 2);
        ExecutorService queries = Executors.newSingleThreadExecutor();
        EmbeddedChannel channel = new EmbeddedChannel();
        try {
            AccessControl access = AccessControl.fromConfig(config);
            MessageDispatcher dispatcher = new MessageDispatcher(config, store, feed, gated, verifiers, queries, new SubscriptionIndex(),
                    Policies.fromConfig(config, access, new RateLimiter(config.rateLimits()), MessageDispatcher::now), access,
                    MessageDispatcher::now, metrics);
            feed.start(dispatcher::onCommitted);
            Session session = new Session(channel, "203.0.113.9", "challenge", 1 << 20, metrics);
            channel.attr(Session.KEY).set(session);
            NostrKey alice = NostrKey.generate();
            List<Event> events = new ArrayList<>();
            for (int i = 0; i < MAX_IN_FLIGHT + 10; i++) events.add(alice.sign(1, "note " + i));

            for (int i = 0; i < MAX_IN_FLIGHT - 1; i++) receive(dispatcher, session, events.get(i));
            assertTrue(channel.config().isAutoRead(), "one below the bound: still read");
            receive(dispatcher, session, events.get(MAX_IN_FLIGHT - 1));
            assertFalse(channel.config().isAutoRead(), "at the bound the connection stops being read");
            assertTrue(ReadGate.of(channel).paused(ReadGate.EVENTS_IN_FLIGHT));

            verifications.release(RESUME_AT - 1);
            waitFor(() -> answered(meters) == RESUME_AT - 1, "answers to the first events");
            Thread.sleep(200);
            assertFalse(channel.config().isAutoRead(), "one short of half answered: still not read");

            verifications.release(1);
            waitFor(() -> channel.config().isAutoRead(), "reading to resume once half are answered");
            assertFalse(ReadGate.of(channel).paused(ReadGate.EVENTS_IN_FLIGHT));

            verifications.release(Integer.MAX_VALUE / 2);
            assertTrue(dispatcher.awaitEventsAnswered(30_000));
            channel.runPendingTasks(); // OKs sent from the writer thread may wait in the connection's outbox
            int oks = 0;
            for (String text : textsWritten(channel)) {
                JsonNode ok = RelayClient.JSON.readTree(text);
                assertEquals("OK", ok.get(0).asText());
                assertTrue(ok.get(2).asBoolean(), ok.toString());
                oks++;
            }
            assertEquals(MAX_IN_FLIGHT, oks, "every EVENT read was answered");
        } finally {
            verifications.release(Integer.MAX_VALUE / 2);
            channel.finishAndReleaseAll();
            verifiers.shutdown(5, TimeUnit.SECONDS);
            queries.shutdownNow();
            feed.close();
            store.close();
            metrics.close();
        }
    }

    /** Past the high-water mark the requests of a client that reads nothing wait unhandled; reading resumes when it reads. */
    @Test
    void aClientThatDoesNotReadStopsBeingReadPastTheHighWaterMarkAndResumesWhenItReads() {
        long maxOutbound = 4L << 20;
        StuckSocket socket = new StuckSocket();
        Answerer answerer = new Answerer(60_000);
        EmbeddedChannel channel = new EmbeddedChannel();
        channel.config().setWriteBufferWaterMark(Transport.waterMark(maxOutbound));
        channel.pipeline().addLast(socket, new OutboundBudget(maxOutbound), answerer);
        int high = channel.config().getWriteBufferHighWaterMark();
        try {
            for (int i = 0; i < 40; i++) channel.writeInbound(request(i));
            int handled = answerer.handled;
            assertTrue(handled < 40, "requests past the high-water mark are not handled");
            assertTrue((long) handled * answerer.answerBytes > high && (long) (handled - 1) * answerer.answerBytes <= high,
                    handled + " answers of " + answerer.answerBytes + " bytes for a high-water mark of " + high);
            assertFalse(channel.isWritable());
            assertFalse(channel.config().isAutoRead(), "the relay stopped reading from the client");
            assertTrue(channel.isActive(), "below max_outbound_bytes the client is only paused");

            socket.drains = true;
            channel.flush();
            channel.runPendingTasks();
            assertEquals(40, answerer.handled, "the held requests are handled once the client reads");
            assertTrue(channel.config().isAutoRead(), "and the relay reads from it again");
            assertEquals(40, channel.outboundMessages().size());
        } finally {
            channel.finishAndReleaseAll();
        }
    }

    /** Live events keep coming to a stalled client whatever is read from it; past max_outbound_bytes it is dropped. */
    @Test
    void outputLeftUnreadPastMaxOutboundBytesClosesTheConnection() {
        long maxOutbound = 1L << 20;
        int frame = 60_000;
        EmbeddedChannel channel = new EmbeddedChannel();
        channel.config().setWriteBufferWaterMark(Transport.waterMark(maxOutbound));
        channel.pipeline().addLast(new StuckSocket(), new OutboundBudget(maxOutbound));
        try {
            int written = 0;
            while (channel.isOpen() && written < 100) {
                channel.writeAndFlush(new TextWebSocketFrame(Unpooled.wrappedBuffer(new byte[frame])));
                written++;
            }
            assertFalse(channel.isOpen(), "the stalled client was dropped");
            assertTrue((long) written * frame > maxOutbound, "not before max_outbound_bytes: " + written + " frames");
            assertTrue((long) (written - 1) * frame <= maxOutbound, "but at the first write past it: " + written + " frames");
        } finally {
            channel.finishAndReleaseAll();
        }
    }

    /**
     * Every text frame written to the channel, whether as a frame object or as wire bytes (the
     * outbox writes batches of encoded frames), decoded by Netty's own WebSocket decoder.
     */
    private static List<String> textsWritten(EmbeddedChannel channel) {
        EmbeddedChannel client = new EmbeddedChannel(new WebSocket08FrameDecoder(WebSocketDecoderConfig.newBuilder()
                .expectMaskedFrames(false).maxFramePayloadLength(1 << 20).build()));
        List<String> texts = new ArrayList<>();
        for (Object out; (out = channel.readOutbound()) != null; ) {
            if (out instanceof TextWebSocketFrame frame) {
                texts.add(frame.text());
                frame.release();
            } else {
                client.writeInbound(out);
                for (Object in; (in = client.readInbound()) != null; ) {
                    texts.add(((TextWebSocketFrame) in).text());
                    ReferenceCountUtil.release(in);
                }
            }
        }
        client.finishAndReleaseAll();
        return texts;
    }

    private static void receive(MessageDispatcher dispatcher, Session session, Event e) {
        byte[] frame = NostrKey.eventMessage(e).getBytes(StandardCharsets.UTF_8);
        dispatcher.onText(session, frame, 0, frame.length);
    }

    private static double answered(SimpleMeterRegistry meters) {
        return meters.find("nexus.events").counters().stream().mapToDouble(c -> c.count()).sum();
    }

    private static void waitFor(BooleanSupplier condition, String what) throws InterruptedException {
        long deadline = System.currentTimeMillis() + 30_000;
        while (!condition.getAsBoolean()) {
            if (System.currentTimeMillis() > deadline) throw new AssertionError("timed out waiting for " + what);
            Thread.sleep(5);
        }
    }

    private static ByteBuf request(int i) {
        return Unpooled.copiedBuffer("[\"COUNT\",\"" + i + "\",{}]", StandardCharsets.UTF_8);
    }

    /** A socket whose peer reads nothing: writes pile up in the outbound buffer until {@code drains}. */
    private static final class StuckSocket extends ChannelOutboundHandlerAdapter {
        boolean drains;

        @Override
        public void flush(ChannelHandlerContext ctx) {
            if (drains) ctx.flush();
        }
    }

    /** Answers each request with one frame of {@code answerBytes}, as a REQ's results or a COUNT would. */
    private static final class Answerer extends ChannelInboundHandlerAdapter {
        final int answerBytes;
        int handled;

        Answerer(int answerBytes) {
            this.answerBytes = answerBytes;
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            ReferenceCountUtil.release(msg);
            handled++;
            ctx.writeAndFlush(new TextWebSocketFrame(Unpooled.wrappedBuffer(new byte[answerBytes])));
        }
    }
}
