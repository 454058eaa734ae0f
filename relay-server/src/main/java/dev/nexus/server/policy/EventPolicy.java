package dev.nexus.server.policy;

import dev.nexus.core.Event;
import java.util.Optional;

/**
 * One admission rule for EVENTs, checked on the I/O thread before the signature: cheap, never
 * blocking. Returns the refusal, or empty to let the next rule decide. {@link Policies} composes
 * them in order; a rule that spends something (a rate-limit token) must come after every rule that
 * can refuse for free.
 */
@FunctionalInterface
public interface EventPolicy {
    Optional<Refusal> check(Event event, ConnectionView connection);
}
