package dev.nexus.server.policy;

import dev.nexus.core.Event;
import java.util.Optional;
import java.util.function.LongSupplier;

/** NIP-40: an event whose {@code expiration} has passed is not accepted. */
public final class ExpiredEvents implements EventPolicy {
    private static final Optional<Refusal> REFUSAL = Optional.of(Refusal.invalid("event has already expired (NIP-40)"));
    private final LongSupplier nowSeconds;

    public ExpiredEvents(LongSupplier nowSeconds) {
        this.nowSeconds = nowSeconds;
    }

    @Override
    public Optional<Refusal> check(Event event, ConnectionView connection) {
        Long expiration = event.expiration();
        return expiration != null && expiration <= nowSeconds.getAsLong() ? REFUSAL : Optional.empty();
    }
}
