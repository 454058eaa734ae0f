package dev.nexus.server.policy;

import dev.nexus.config.NexusConfig;
import dev.nexus.core.Event;
import java.util.Optional;

/** {@code [auth] required}: publishing needs NIP-42, except kinds in {@code open_kinds}. */
public final class AuthRequiredToPublish implements EventPolicy {
    private static final Optional<Refusal> REFUSAL = Optional.of(Refusal.authRequired("this relay requires NIP-42 authentication to publish"));
    private final NexusConfig.Auth auth;

    public AuthRequiredToPublish(NexusConfig.Auth auth) {
        this.auth = auth;
    }

    @Override
    public Optional<Refusal> check(Event event, ConnectionView connection) {
        return !connection.isAuthenticated() && auth.requiredToPublish(event.kind()) ? REFUSAL : Optional.empty();
    }
}
