package dev.nexus.microbench;

import dev.nexus.core.ClientMessage;
import dev.nexus.core.ClientMessageParser;
import dev.nexus.core.Event;
import dev.nexus.core.Filter;
import dev.nexus.core.ProtocolLimits;
import dev.nexus.core.testing.NostrKey;
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

/** Matching one event against the filters buyers and providers keep open. */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class FilterBenchmark {
    private Event result;
    private Filter buyerOutcome;
    private Filter providerJobs;

    @Setup
    public void setUp() throws Exception {
        NostrKey buyer = NostrKey.generate(), provider = NostrKey.generate();
        String jobId = "ab".repeat(32);
        result = provider.sign(6050, List.of(List.of("e", jobId), List.of("p", buyer.pubkey()), List.of("amount", "1000")), "result");
        ClientMessageParser p = new ClientMessageParser(ProtocolLimits.DEFAULT);
        buyerOutcome = ((ClientMessage.Subscribe) p.parse("[\"REQ\",\"s\",{\"kinds\":[6050,7000],\"#e\":[\"" + jobId + "\"],\"#p\":[\""
                + buyer.pubkey() + "\"]}]")).filters().get(0);
        providerJobs = ((ClientMessage.Subscribe) p.parse("[\"REQ\",\"s\",{\"kinds\":[5050],\"#p\":[\"" + provider.pubkey() + "\"]}]"))
                .filters().get(0);
    }

    @Benchmark
    public boolean matchingFilter() {
        return buyerOutcome.matches(result);
    }

    @Benchmark
    public boolean nonMatchingFilter() {
        return providerJobs.matches(result);
    }
}
