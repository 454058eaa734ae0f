package dev.nexus.server;

import dev.nexus.core.ClientMessage;
import dev.nexus.core.ClientMessageParser;
import dev.nexus.core.Event;
import dev.nexus.core.ProtocolLimits;
import dev.nexus.core.testing.NostrKey;
import dev.nexus.server.nip01.Subscription;
import dev.nexus.server.nip01.SubscriptionIndex;
import io.netty.channel.embedded.EmbeddedChannel;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.infra.Blackhole;

/**
 * Fan-out matching: one new event against 10,000 live subscriptions shaped like the marketplace's
 * (providers on {@code kinds + #p}, buyers on {@code kinds + #e + #p}, some on {@code kinds + since}).
 * Lives in the server's package because the index is internal to it.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class SubscriptionIndexBenchmark {
    private final SubscriptionIndex index = new SubscriptionIndex();
    private Event jobForProvider7;
    private Event resultForBuyer42;

    @Setup
    public void setUp() throws Exception {
        ClientMessageParser p = new ClientMessageParser(ProtocolLimits.DEFAULT);
        List<NostrKey> providers = new ArrayList<>(), buyers = new ArrayList<>();
        for (int i = 0; i < 100; i++) providers.add(NostrKey.generate());
        for (int i = 0; i < 100; i++) buyers.add(NostrKey.generate());
        long now = System.currentTimeMillis() / 1000;
        dev.nexus.config.NexusConfig config = dev.nexus.config.NexusConfig.defaults();
        dev.nexus.server.metrics.RelayMetrics metrics = new dev.nexus.server.metrics.RelayMetrics(config.metrics(), config.marketplace().kinds());
        for (int i = 0; i < 10_000; i++) {
            Session s = new Session(new EmbeddedChannel(), "127.0.0.1", "c", 1 << 20, metrics);
            String filter = switch (i % 3) {
                case 0 -> "{\"kinds\":[5050],\"#p\":[\"" + providers.get(i % 100).pubkey() + "\"]}";
                case 1 -> "{\"kinds\":[6050,7000],\"#e\":[\"" + String.format("%064x", i) + "\"],\"#p\":[\"" + buyers.get(i % 100).pubkey() + "\"]}";
                default -> "{\"kinds\":[" + (5000 + i % 100) + "],\"since\":" + now + "}";
            };
            ClientMessage.Subscribe req = (ClientMessage.Subscribe) p.parse("[\"REQ\",\"s" + i + "\"," + filter + "]");
            index.tryAdd(new Subscription(s, req.subscriptionId(), req.filters()));
        }
        jobForProvider7 = buyers.get(1).sign(5050, List.of(List.of("p", providers.get(7).pubkey())), "job");
        resultForBuyer42 = providers.get(1).sign(6050, List.of(List.of("e", String.format("%064x", 42 * 3 + 1)), List.of("p", buyers.get(42).pubkey())), "r");
    }

    @Benchmark
    public void matchJobAgainst10kSubscriptions(Blackhole bh) {
        index.forEachMatch(jobForProvider7, bh::consume);
    }

    @Benchmark
    public void matchResultAgainst10kSubscriptions(Blackhole bh) {
        index.forEachMatch(resultForBuyer42, bh::consume);
    }
}
