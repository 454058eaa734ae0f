package dev.nexus.server.policy;

import dev.nexus.config.NexusConfig;
import dev.nexus.core.Filter;
import dev.nexus.core.KindRanges;
import java.util.List;
import java.util.Optional;

/** {@code [auth] required = true}: reading needs NIP-42, unless every filter names only {@code open_kinds}. */
public final class AuthRequiredToRead implements ReadPolicy {
    private static final Optional<Refusal> REFUSAL = Optional.of(Refusal.authRequired("this relay requires NIP-42 authentication to read"));
    private final NexusConfig.Auth auth;

    public AuthRequiredToRead(NexusConfig.Auth auth) {
        this.auth = auth;
    }

    @Override
    public Optional<Refusal> check(String verb, List<Filter> filters, ConnectionView connection) {
        return auth.requiredForReads() && !connection.isAuthenticated() && !onlyOpenKinds(filters) ? REFUSAL : Optional.empty();
    }

    private boolean onlyOpenKinds(List<Filter> filters) {
        KindRanges open = auth.openKinds();
        if (open.isEmpty() || filters.isEmpty()) return false;
        for (Filter f : filters) {
            if (f.kinds() == null || f.kinds().isEmpty()) return false;
            for (int k : f.kinds()) if (!open.contains(k)) return false;
        }
        return true;
    }
}
