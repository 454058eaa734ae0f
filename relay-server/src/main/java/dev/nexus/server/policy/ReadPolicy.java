package dev.nexus.server.policy;

import dev.nexus.core.Filter;
import java.util.List;
import java.util.Optional;

/**
 * One rule for reads (REQ, COUNT, NEG-OPEN), checked on the I/O thread before any query runs.
 * {@code verb} is the message's verb, for refusals that name it.
 */
@FunctionalInterface
public interface ReadPolicy {
    Optional<Refusal> check(String verb, List<Filter> filters, ConnectionView connection);
}
