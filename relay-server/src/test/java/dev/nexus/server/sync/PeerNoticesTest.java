package dev.nexus.server.sync;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.nio.NioEventLoopGroup;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.websocketx.TextWebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketServerProtocolHandler;
import java.net.InetSocketAddress;
import java.net.http.HttpClient;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

/** A federation peer's NOTICEs reach the log quoted and few: a peer cannot forge log lines or flood them. */
class PeerNoticesTest {
    @Test
    void aPeersNoticesAreLoggedQuotedAndOnlyTheFirstFewAtInfo() throws Exception {
        NioEventLoopGroup group = new NioEventLoopGroup(1);
        Logger logger = (Logger) LoggerFactory.getLogger(PeerConnection.class);
        Level before = logger.getLevel();
        ListAppender<ILoggingEvent> lines = new ListAppender<>();
        lines.start();
        logger.addAppender(lines);
        logger.setLevel(Level.DEBUG); // to see the lines that go to debug too
        try {
            Channel server = new ServerBootstrap().group(group).channel(NioServerSocketChannel.class)
                    .childHandler(new ChannelInitializer<SocketChannel>() {
                        @Override
                        protected void initChannel(SocketChannel ch) {
                            ch.pipeline().addLast(new HttpServerCodec(), new HttpObjectAggregator(65536), new WebSocketServerProtocolHandler("/"),
                                    new ChannelInboundHandlerAdapter() {
                                        @Override
                                        public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
                                            if (!(evt instanceof WebSocketServerProtocolHandler.HandshakeComplete)) return;
                                            for (int i = 0; i < 50; i++) {
                                                ctx.write(new TextWebSocketFrame("[\"NOTICE\",\"bad peer " + i + "\\n2026-12-08 INFO forged line\"]"));
                                            }
                                            ctx.writeAndFlush(new TextWebSocketFrame("[\"EOSE\",\"s\"]"));
                                        }
                                    });
                        }
                    }).bind("127.0.0.1", 0).sync().channel();
            String url = "ws://127.0.0.1:" + ((InetSocketAddress) server.localAddress()).getPort() + "/";
            PeerConnection peer = PeerConnection.open(HttpClient.newHttpClient(), url, null, 10_000);
            assertEquals("[\"EOSE\",\"s\"]", peer.next().toString(), "the NOTICEs are passed over, the next message returned");

            List<ILoggingEvent> notices = lines.list.stream().filter(e -> e.getFormattedMessage().startsWith("NOTICE from")).toList();
            assertEquals(50, notices.size());
            assertEquals(5, notices.stream().filter(e -> e.getLevel() == Level.INFO).count(), "the first five at info, the rest at debug");
            for (ILoggingEvent e : notices) {
                assertFalse(e.getFormattedMessage().contains("\n"), "a newline from the peer would forge a log line: " + e.getFormattedMessage());
            }
            assertTrue(notices.get(0).getFormattedMessage().endsWith("\"bad peer 0\\u000a2026-12-08 INFO forged line\""), notices.get(0).getFormattedMessage());
            server.close().sync();
        } finally {
            logger.detachAppender(lines);
            logger.setLevel(before);
            group.shutdownGracefully(0, 1, java.util.concurrent.TimeUnit.SECONDS);
        }
    }
}
