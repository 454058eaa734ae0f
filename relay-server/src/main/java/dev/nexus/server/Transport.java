package dev.nexus.server;

import dev.nexus.config.NexusConfig;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.ServerChannel;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollEventLoopGroup;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.nio.NioEventLoopGroup;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.util.concurrent.DefaultThreadFactory;
import java.io.File;
import java.net.InetSocketAddress;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLException;

/**
 * The relay's sockets: the accept loop and the {@code nexus-io-*} event loops (epoll where the
 * native transport loads, NIO otherwise) and the listening channel with the options every
 * connection gets.
 */
final class Transport {
    private final boolean epoll = Epoll.isAvailable();
    private final int ioThreads;
    private final EventLoopGroup bossGroup;
    private final EventLoopGroup ioGroup;

    Transport(int ioThreads) {
        this.ioThreads = ioThreads;
        bossGroup = epoll ? new EpollEventLoopGroup(1, new DefaultThreadFactory("nexus-accept")) : new NioEventLoopGroup(1, new DefaultThreadFactory("nexus-accept"));
        ioGroup = epoll ? new EpollEventLoopGroup(ioThreads, new DefaultThreadFactory("nexus-io")) : new NioEventLoopGroup(ioThreads, new DefaultThreadFactory("nexus-io"));
    }

    /** Binds and returns the listening channel; {@code port} 0 picks a free port. */
    Channel bind(String host, int port, long maxOutboundBytes, ChannelHandler acceptFilter, ChannelHandler connections) throws InterruptedException {
        Class<? extends ServerChannel> channelType = epoll ? EpollServerSocketChannel.class : NioServerSocketChannel.class;
        ServerBootstrap b = new ServerBootstrap()
                .group(bossGroup, ioGroup)
                .channel(channelType)
                .option(ChannelOption.SO_BACKLOG, 4096)
                .option(ChannelOption.SO_REUSEADDR, true)
                .handler(acceptFilter)
                .childOption(ChannelOption.TCP_NODELAY, true)
                .childOption(ChannelOption.ALLOCATOR, PooledByteBufAllocator.DEFAULT)
                // Past the high-water mark the relay stops reading from a client and paces its query results;
                // past max_outbound_bytes (live fan-out can still add) it drops the client (OutboundBudget).
                .childOption(ChannelOption.WRITE_BUFFER_WATER_MARK, waterMark(maxOutboundBytes))
                .childHandler(connections);
        return b.bind(new InetSocketAddress(host, port)).sync().channel();
    }

    static WriteBufferWaterMark waterMark(long maxOutboundBytes) {
        int high = (int) Math.min(1024 * 1024, maxOutboundBytes / 2);
        return new WriteBufferWaterMark(high / 4, high);
    }

    /** TLS for wss:// on the relay's own port, from the PEM files read once at start. */
    static SslContext tlsContext(NexusConfig.Server s) {
        try {
            return SslContextBuilder.forServer(new File(s.tlsCert()), new File(s.tlsKey())).build();
        } catch (SSLException | IllegalArgumentException e) {
            throw new IllegalStateException("[server].tls_cert / tls_key: cannot use " + s.tlsCert() + " and " + s.tlsKey()
                    + " (PEM certificate chain and PKCS#8 PEM key expected): " + e.getMessage(), e);
        }
    }

    EventLoopGroup ioLoops() {
        return ioGroup;
    }

    /** For the start-up line: "epoll" or "nio" and the number of I/O threads. */
    String describe() {
        return (epoll ? "epoll" : "nio") + " transport, " + ioThreads + " I/O threads";
    }

    void shutdown() {
        bossGroup.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
        ioGroup.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
    }
}
