package dev.nexus.server.policy;

import dev.nexus.core.Event;
import java.util.Optional;
import java.util.function.LongSupplier;

/** {@code [limits] created_at_lower_limit / created_at_upper_limit} (0: that side is open). */
public final class CreatedAtWindow implements EventPolicy {
    private static final Optional<Refusal> FUTURE = Optional.of(Refusal.invalid("created_at is too far in the future"));
    private static final Optional<Refusal> PAST = Optional.of(Refusal.invalid("created_at is too far in the past"));
    private final long lowerLimit;
    private final long upperLimit;
    private final LongSupplier nowSeconds;

    public CreatedAtWindow(long lowerLimit, long upperLimit, LongSupplier nowSeconds) {
        this.lowerLimit = lowerLimit;
        this.upperLimit = upperLimit;
        this.nowSeconds = nowSeconds;
    }

    @Override
    public Optional<Refusal> check(Event event, ConnectionView connection) {
        long now = nowSeconds.getAsLong();
        if (upperLimit > 0 && event.createdAt() > now + upperLimit) return FUTURE;
        if (lowerLimit > 0 && event.createdAt() < now - lowerLimit) return PAST;
        return Optional.empty();
    }
}
