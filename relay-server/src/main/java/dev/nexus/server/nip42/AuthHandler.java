package dev.nexus.server.nip42;

import dev.nexus.config.NexusConfig;
import dev.nexus.core.Event;
import dev.nexus.core.RelayMessages;
import dev.nexus.core.SignatureVerifier;
import dev.nexus.server.Session;
import dev.nexus.server.TwoLaneExecutor;
import dev.nexus.server.policy.AccessControl;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * NIP-42 AUTH: the challenge on connect, and each AUTH event checked on the verifier pool (in its
 * priority lane while the connection's {@link AuthBudget} allows) against {@link Nip42Auth}'s rules.
 * A connection that fails too often is closed.
 */
public final class AuthHandler {
    private static final Logger log = LoggerFactory.getLogger(AuthHandler.class);

    private final Nip42Auth rules;
    private final AuthBudget budget;
    private final TwoLaneExecutor verifiers;
    private final LongSupplier nowSeconds;

    public AuthHandler(NexusConfig config, SignatureVerifier verifier, AccessControl access, TwoLaneExecutor verifiers, LongSupplier nowSeconds) {
        NexusConfig.Auth a = config.auth();
        this.rules = new Nip42Auth(config, verifier, access);
        this.budget = new AuthBudget(a.maxAuthsInFlight(), a.maxAuthsPerConnection(), a.maxFailedAuths());
        this.verifiers = verifiers;
        this.nowSeconds = nowSeconds;
    }

    public void useBoundPort(int port) {
        rules.useBoundPort(port);
    }

    public void challenge(Session s) {
        s.send(RelayMessages.auth(s.challenge()));
    }

    public void onAuth(Session s, Event e) {
        AuthBudget.Account account = s.authAccount();
        String overBudget = budget.admit(account);
        if (overBudget != null) {
            s.send(RelayMessages.ok(e.id(), false, overBudget));
            if (budget.exhausted(account)) s.closeWith(1008, "too many AUTH attempts");
            return;
        }
        verifiers.execute(() -> {
            String refusal = null;
            try {
                refusal = rules.check(s, e, nowSeconds.getAsLong());
                if (refusal != null) {
                    s.send(RelayMessages.ok(e.id(), false, refusal));
                    return;
                }
                s.markAuthenticated(e.pubkey());
                log.debug("{} authenticated as {}", s.remoteIp(), e.pubkey());
                s.send(RelayMessages.ok(e.id(), true, ""));
            } finally {
                if (budget.done(account, refusal != null)) {
                    log.debug("closing {}: too many failed AUTH attempts", s.remoteIp()); // summed up once a minute
                    s.closeAfterFailedAuths();
                }
            }
        }, budget.priority(account));
    }
}
