package dev.nexus.server;

import dev.nexus.config.NexusConfig;
import dev.nexus.core.SignatureVerifier;
import dev.nexus.server.policy.Policies;
import dev.nexus.storage.EventStore;
import dev.nexus.storage.LiveFeed;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.function.LongSupplier;
import java.util.function.UnaryOperator;

/**
 * A relay with some of its parts given rather than built from config: the store, the live feed,
 * the signature verifier, the clock (seconds) the policies and handlers read, the admission
 * policies and the metrics registry. Anything not
 * given is built from the config as {@code new NexusServer(config)} does. The server owns what it
 * is given: it starts the feed and closes feed and store on {@link NexusServer#close()}.
 */
public final class NexusServerBuilder {
    final NexusConfig config;
    String version = Version.current();
    EventStore store;
    LiveFeed liveFeed;
    SignatureVerifier verifier;
    LongSupplier clock = MessageDispatcher::now;
    UnaryOperator<Policies> policies = UnaryOperator.identity();
    MeterRegistry meterRegistry;

    NexusServerBuilder(NexusConfig config) {
        this.config = config;
    }

    public NexusServerBuilder version(String version) {
        this.version = version;
        return this;
    }

    public NexusServerBuilder store(EventStore store) {
        this.store = store;
        return this;
    }

    /** A feed for a store several nodes share; with an injected store and no feed, an in-process feed is used. */
    public NexusServerBuilder liveFeed(LiveFeed liveFeed) {
        this.liveFeed = liveFeed;
        return this;
    }

    public NexusServerBuilder verifier(SignatureVerifier verifier) {
        this.verifier = verifier;
        return this;
    }

    /** The "now" (Unix seconds) of admission rules, queries and AUTH checks; expiry sweeps still use the wall clock. */
    public NexusServerBuilder clock(LongSupplier nowSeconds) {
        this.clock = nowSeconds;
        return this;
    }

    /**
     * The admission rules: given the chain {@code Policies.fromConfig} builds (which reads the
     * relay's own access lists, changed at run time by NIP-86, and its rate limiter), returns the
     * chain to use: the same one with rules added, or another altogether.
     */
    public NexusServerBuilder policies(UnaryOperator<Policies> fromConfig) {
        this.policies = fromConfig;
        return this;
    }

    /**
     * Where the relay registers its meters. A {@code PrometheusMeterRegistry} is the one
     * {@code GET /metrics} serves; any other registry gets every meter beside the relay's own
     * Prometheus registry. The relay closes it on {@link NexusServer#close()}.
     */
    public NexusServerBuilder meterRegistry(MeterRegistry registry) {
        this.meterRegistry = registry;
        return this;
    }

    public NexusServer build() {
        return new NexusServer(this);
    }
}
