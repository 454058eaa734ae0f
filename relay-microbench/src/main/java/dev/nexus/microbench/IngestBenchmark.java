package dev.nexus.microbench;

import dev.nexus.core.BouncyCastleVerifier;
import dev.nexus.core.ClientMessageParser;
import dev.nexus.core.Event;
import dev.nexus.core.EventJson;
import dev.nexus.core.Hex;
import dev.nexus.core.ProtocolLimits;
import dev.nexus.core.Secp256k1Verifier;
import dev.nexus.core.testing.NostrKey;
import java.nio.charset.StandardCharsets;
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

/** The per-event ingest work: parse + canonical serialization + id, and the signature check. */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class IngestBenchmark {
    private byte[] eventMessage;
    private Event job;
    private byte[] pubkey, id, sig;
    private final ClientMessageParser parser = new ClientMessageParser(ProtocolLimits.DEFAULT);
    private final Secp256k1Verifier jni = new Secp256k1Verifier();
    private final BouncyCastleVerifier pureJava = new BouncyCastleVerifier();

    @Setup
    public void setUp() {
        NostrKey key = NostrKey.generate();
        // Shaped like the load generator's W1 job requests.
        job = key.sign(5050, List.of(List.of("i", "Summarise document number 42 in three sentences please", "text"),
                List.of("param", "model", "x"), List.of("bid", "1000"), List.of("p", NostrKey.generate().pubkey())), "");
        eventMessage = NostrKey.eventMessage(job).getBytes(StandardCharsets.UTF_8);
        pubkey = Hex.decode(job.pubkey());
        id = Hex.decode(job.id());
        sig = Hex.decode(job.sig());
    }

    @Benchmark
    public Object parseAndRecomputeId() throws Exception {
        return parser.parse(eventMessage, 0, eventMessage.length);
    }

    /** What parsing (the lowercase-hex checks) and the verifier (the decoding) do with one event's id, pubkey and sig. */
    @Benchmark
    public int hexCheckAndDecode() {
        boolean ok = Hex.isLowerHex(job.id(), 32) && Hex.isLowerHex(job.pubkey(), 32) && Hex.isLowerHex(job.sig(), 64);
        return ok ? Hex.decode(job.pubkey())[0] + Hex.decode(job.id())[0] + Hex.decode(job.sig())[0] : -1;
    }

    @Benchmark
    public byte[] canonicalSerializationAndId() {
        return EventJson.computeIdBytes(job.pubkey(), job.createdAt(), job.kind(), job.tags(), job.content());
    }

    @Benchmark
    public boolean verifyLibsecp256k1Jni() {
        return jni.verify(pubkey, id, sig);
    }

    @Benchmark
    public boolean verifyBouncyCastle() {
        return pureJava.verify(pubkey, id, sig);
    }
}
