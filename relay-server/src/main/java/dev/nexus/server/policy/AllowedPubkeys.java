package dev.nexus.server.policy;

import dev.nexus.config.NexusConfig;
import dev.nexus.core.Event;
import java.util.Optional;

/**
 * The allow list: only its pubkeys publish. Who is checked depends on authentication: with auth on
 * and the connection authenticated (AUTH itself checked the agent against the list), the event's
 * author is checked only when {@code allow_list_covers_authors}; otherwise an allowed agent could
 * publish events signed by keys that are not allowed. Without authentication (auth off, or an open
 * kind) only the author can be checked.
 */
public final class AllowedPubkeys implements EventPolicy {
    private static final Optional<Refusal> REFUSAL = Optional.of(Refusal.restricted("this event's author is not on the relay's allow list"));
    private final AccessControl access;
    private final NexusConfig.Auth auth;

    public AllowedPubkeys(AccessControl access, NexusConfig.Auth auth) {
        this.access = access;
        this.auth = auth;
    }

    @Override
    public Optional<Refusal> check(Event event, ConnectionView connection) {
        if (!access.hasAllowList()) return Optional.empty();
        boolean authorsChecked = !auth.requiredForWrites() || !connection.isAuthenticated() || auth.allowListCoversAuthors();
        return authorsChecked && !access.isAllowed(event.pubkey()) ? REFUSAL : Optional.empty();
    }
}
