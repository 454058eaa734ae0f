package dev.nexus.server.policy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.nexus.config.NexusConfig;
import dev.nexus.core.Event;
import dev.nexus.core.KindRanges;
import dev.nexus.core.MarketplaceKinds;
import dev.nexus.core.testing.NostrKey;
import dev.nexus.server.RateLimiter;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** Each admission rule on its own: what it refuses, with which prefix, and what it lets through. */
class EventPoliciesTest {
    private static final long NOW = 1_700_000_000L;
    private final NostrKey alice = NostrKey.generate();
    private final NostrKey bob = NostrKey.generate();

    private static NexusConfig config(String toml) throws Exception {
        return NexusConfig.parse(toml);
    }

    private static String refusal(EventPolicy policy, Event e, ConnectionView c) {
        Optional<Refusal> r = policy.check(e, c);
        return r.map(Refusal::message).orElse(null);
    }

    @Test
    void authEventsAreOnlyAcceptedInAuthMessages() {
        EventPolicy p = new AuthEventsOnlyInAuth();
        assertEquals("invalid: kind 22242 events are only accepted in an AUTH message", refusal(p, alice.sign(22242, ""), Connection.as(alice.pubkey())));
        assertEquals(null, refusal(p, alice.sign(1, ""), Connection.anonymous()));
    }

    @Test
    void publishingNeedsAuthenticationExceptOpenKinds() throws Exception {
        EventPolicy p = new AuthRequiredToPublish(config("[auth]\nrequired = \"writes\"\nopen_kinds = [25910]\n").auth());
        assertEquals("auth-required: this relay requires NIP-42 authentication to publish", refusal(p, alice.sign(1, ""), Connection.anonymous()));
        assertEquals(null, refusal(p, alice.sign(25910, ""), Connection.anonymous()));
        assertEquals(null, refusal(p, alice.sign(1, ""), Connection.as(bob.pubkey())));
        EventPolicy off = new AuthRequiredToPublish(config("[auth]\nrequired = false\n").auth());
        assertEquals(null, refusal(off, alice.sign(1, ""), Connection.anonymous()));
    }

    @Test
    void deniedPubkeysAreBlockedAndABanAtRunTimeTakesEffectAtOnce() {
        AccessControl access = AccessControl.open();
        EventPolicy p = new DeniedPubkeys(access);
        Event e = alice.sign(1, "");
        assertEquals(null, refusal(p, e, Connection.anonymous()));
        access.denyPubkey(alice.pubkey());
        assertEquals("blocked: this pubkey may not publish here", refusal(p, e, Connection.anonymous()));
        access.undenyPubkey(alice.pubkey());
        assertEquals(null, refusal(p, e, Connection.anonymous()));
    }

    @Test
    void theAllowListChecksAuthorsUnlessAnAuthenticatedAgentMayRelayOthers() throws Exception {
        AccessControl access = new AccessControl(Set.of(alice.pubkey()), Set.of(), KindRanges.NONE);
        NexusConfig.Auth covers = config("[auth]\nrequired = true\n").auth();
        NexusConfig.Auth agentsOnly = config("[auth]\nrequired = true\nallow_list_covers_authors = false\n").auth();
        Event fromBob = bob.sign(1, "");
        String restricted = "restricted: this event's author is not on the relay's allow list";
        assertEquals(restricted, refusal(new AllowedPubkeys(access, covers), fromBob, Connection.as(alice.pubkey())));
        assertEquals(null, refusal(new AllowedPubkeys(access, agentsOnly), fromBob, Connection.as(alice.pubkey())));
        assertEquals(restricted, refusal(new AllowedPubkeys(access, agentsOnly), fromBob, Connection.anonymous()), "without AUTH the author is all there is to check");
        assertEquals(null, refusal(new AllowedPubkeys(access, covers), alice.sign(1, ""), Connection.anonymous()));
        assertEquals(null, refusal(new AllowedPubkeys(AccessControl.open(), covers), fromBob, Connection.anonymous()), "no list, no restriction");
    }

    @Test
    void allowedKindsFromConfigAndChangedAtRunTime() throws Exception {
        NexusConfig c = config("[limits]\nallowed_kinds = [1, \"5000-7000\"]\n");
        AccessControl access = AccessControl.fromConfig(c);
        EventPolicy p = new AllowedKinds(access);
        assertEquals(null, refusal(p, alice.sign(1, ""), Connection.anonymous()));
        assertEquals(null, refusal(p, alice.sign(6100, ""), Connection.anonymous()));
        assertEquals("blocked: this relay does not accept kind 30023 events", refusal(p, alice.sign(30023, ""), Connection.anonymous()));
        access.allowKind(30023);
        assertEquals(null, refusal(p, alice.sign(30023, ""), Connection.anonymous()));
        access.denyKind(1);
        assertTrue(refusal(p, alice.sign(1, ""), Connection.anonymous()).startsWith("blocked:"));
        access.allowKind(1);
        assertEquals(null, refusal(p, alice.sign(1, ""), Connection.anonymous()));
        assertEquals(null, refusal(new AllowedKinds(AccessControl.open()), alice.sign(30023, ""), Connection.anonymous()), "no list, every kind");
    }

    @Test
    void protectedEventsOnlyFromTheirAuthenticatedAuthor() {
        EventPolicy p = new ProtectedEvents();
        Event e = alice.sign(1, List.of(List.of("-")), "");
        assertEquals("auth-required: this protected event may only be published by its authenticated author", refusal(p, e, Connection.anonymous()));
        assertEquals("restricted: this protected event may only be published by its author", refusal(p, e, Connection.as(bob.pubkey())));
        assertEquals(null, refusal(p, e, Connection.as(alice.pubkey())));
        assertEquals(null, refusal(p, bob.sign(1, ""), Connection.anonymous()));
    }

    @Test
    void createdAtMustBeInsideTheWindowOnTheInjectedClock() {
        EventPolicy p = new CreatedAtWindow(3600, 900, () -> NOW);
        assertEquals("invalid: created_at is too far in the future", refusal(p, alice.sign(1, List.of(), "", NOW + 901), Connection.anonymous()));
        assertEquals(null, refusal(p, alice.sign(1, List.of(), "", NOW + 900), Connection.anonymous()));
        assertEquals("invalid: created_at is too far in the past", refusal(p, alice.sign(1, List.of(), "", NOW - 3601), Connection.anonymous()));
        assertEquals(null, refusal(new CreatedAtWindow(0, 0, () -> NOW), alice.sign(1, List.of(), "", 1), Connection.anonymous()), "0 opens both sides");
    }

    @Test
    void expiredEventsAreRefused() {
        EventPolicy p = new ExpiredEvents(() -> NOW);
        assertEquals("invalid: event has already expired (NIP-40)",
                refusal(p, alice.sign(1, List.of(List.of("expiration", Long.toString(NOW))), ""), Connection.anonymous()));
        assertEquals(null, refusal(p, alice.sign(1, List.of(List.of("expiration", Long.toString(NOW + 1))), ""), Connection.anonymous()));
        assertEquals(null, refusal(p, alice.sign(1, ""), Connection.anonymous()));
    }

    @Test
    void jobResultsAndFeedbackMustReferenceTheirJob() {
        EventPolicy p = new JobShape(MarketplaceKinds.DEFAULT);
        Refusal r = p.check(alice.sign(6100, ""), Connection.anonymous()).orElseThrow();
        assertEquals("invalid", r.prefix());
        assertTrue(r.message().startsWith("invalid: job result"), r.message());
        assertEquals(null, refusal(p, alice.sign(6100, List.of(List.of("e", "00".repeat(32))), ""), Connection.anonymous()));
        assertTrue(refusal(p, alice.sign(7000, List.of(List.of("e", "00".repeat(32))), ""), Connection.anonymous()).startsWith("invalid:"));
    }

    @Test
    void budgetsChargeTheIpThenTheAuthenticatedAgent() throws Exception {
        NexusConfig c = config("[rate_limits]\nexempt_ips = []\nevents_per_second = 0.001\nevents_burst = 2\n");
        EventPolicy p = new PublishBudgets(new RateLimiter(c.rateLimits()), MarketplaceKinds.DEFAULT);
        ConnectionView fromAlice = new Connection("198.51.100.1", Set.of(alice.pubkey()));
        assertEquals(null, refusal(p, alice.sign(1, ""), fromAlice));
        assertEquals(null, refusal(p, alice.sign(1, ""), new Connection("198.51.100.2", Set.of(alice.pubkey()))));
        assertEquals("rate-limited: slow down, too many events from your pubkey",
                refusal(p, alice.sign(1, ""), new Connection("198.51.100.3", Set.of(alice.pubkey()))));
        assertEquals(null, refusal(p, bob.sign(1, ""), new Connection("198.51.100.1", Set.of())));
        assertEquals("rate-limited: slow down, too many events from your address", refusal(p, bob.sign(1, ""), new Connection("198.51.100.1", Set.of())));
    }

    @Test
    void theChainRunsInOrderAndBudgetsComeLastSoRefusedEventsSpendNothing() throws Exception {
        NexusConfig c = config("[auth]\nrequired = false\n[limits]\nallowed_kinds = [1]\n[rate_limits]\nexempt_ips = []\nevents_per_second = 0.001\nevents_burst = 1\n");
        Policies policies = Policies.fromConfig(c, AccessControl.fromConfig(c), new RateLimiter(c.rateLimits()), () -> NOW);
        List<Class<?>> order = policies.eventPolicies().stream().<Class<?>>map(Object::getClass).toList();
        assertEquals(PublishBudgets.class, order.get(order.size() - 1));
        assertEquals(AuthEventsOnlyInAuth.class, order.get(0));
        ConnectionView anon = Connection.anonymous();
        for (int i = 0; i < 5; i++) assertTrue(policies.admit(alice.sign(30023, ""), anon).message().startsWith("blocked:"));
        for (int i = 0; i < 5; i++) assertTrue(policies.admit(alice.sign(1, List.of(), "", NOW + 10_000), anon).message().startsWith("invalid:"));
        assertEquals(null, policies.admit(alice.sign(1, List.of(), "", NOW), anon), "refused events did not spend the single token");
        assertEquals("rate-limited", policies.admit(alice.sign(1, List.of(), "", NOW), anon).prefix());
    }
}
