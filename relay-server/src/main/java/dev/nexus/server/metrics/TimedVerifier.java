package dev.nexus.server.metrics;

import dev.nexus.core.Event;
import dev.nexus.core.SignatureVerifier;
import io.micrometer.core.instrument.Timer;
import java.util.concurrent.TimeUnit;

/** A signature verifier whose every check is timed. */
final class TimedVerifier implements SignatureVerifier {
    private final SignatureVerifier delegate;
    private final Timer timer;

    TimedVerifier(SignatureVerifier delegate, Timer timer) {
        this.delegate = delegate;
        this.timer = timer;
    }

    @Override
    public boolean verify(byte[] pubkey32, byte[] message32, byte[] signature64) {
        long start = System.nanoTime();
        try {
            return delegate.verify(pubkey32, message32, signature64);
        } finally {
            timer.record(System.nanoTime() - start, TimeUnit.NANOSECONDS);
        }
    }

    @Override
    public boolean verify(Event event) {
        long start = System.nanoTime();
        try {
            return delegate.verify(event);
        } finally {
            timer.record(System.nanoTime() - start, TimeUnit.NANOSECONDS);
        }
    }

    @Override
    public String name() {
        return delegate.name();
    }
}
