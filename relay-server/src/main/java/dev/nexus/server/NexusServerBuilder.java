package dev.nexus.server;

import dev.nexus.config.NexusConfig;
import dev.nexus.core.SignatureVerifier;
import dev.nexus.storage.EventStore;
import dev.nexus.storage.LiveFeed;
import java.util.function.LongSupplier;

/**
 * A relay with some of its parts given rather than built from config: the store, the live feed,
 * the signature verifier and the clock (seconds) the policies and handlers read. Anything not
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

    public NexusServer build() {
        return new NexusServer(this);
    }
}
