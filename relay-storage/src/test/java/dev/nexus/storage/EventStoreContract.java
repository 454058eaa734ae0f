package dev.nexus.storage;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.nexus.core.ClientMessage;
import dev.nexus.core.ClientMessageParser;
import dev.nexus.core.Event;
import dev.nexus.core.Filter;
import dev.nexus.core.ProtocolLimits;
import dev.nexus.core.testing.NostrKey;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The storage rules of NIP-01, NIP-09 and NIP-40 (and Nexus's retention and operator bans) that
 * every {@link EventStore} must keep, with real signed events. A backend's test extends this class
 * and says how to open a fresh, empty store; relay-storage-postgres reaches it through the test-jar.
 */
public abstract class EventStoreContract {
    protected static final long NOW = System.currentTimeMillis() / 1000;
    protected final NostrKey alice = NostrKey.generate();
    protected final NostrKey bob = NostrKey.generate();
    protected EventStore store;

    /** A fresh, empty store with this retention policy; the contract closes it. */
    protected abstract EventStore open(RetentionPolicy retention);

    @BeforeEach
    void openStore() {
        store = open(RetentionPolicy.DEFAULT);
    }

    @AfterEach
    void closeStore() {
        store.close();
    }

    protected WriteResult write(Event e) {
        return store.write(e).join();
    }

    protected static Filter filter(String json) {
        try {
            return ((ClientMessage.Subscribe) new ClientMessageParser(ProtocolLimits.DEFAULT).parse("[\"REQ\",\"s\"," + json + "]")).filters().get(0);
        } catch (Exception e) {
            throw new IllegalArgumentException(json, e);
        }
    }

    protected List<String> ids(String filterJson) {
        return store.query(filter(filterJson), 500, NOW).stream().map(StoredEvent::id).toList();
    }

    private List<String> authorIds(NostrKey key) {
        return ids("{\"authors\":[\"" + key.pubkey() + "\"]}");
    }

    private static String lower(Event a, Event b) {
        return a.id().compareTo(b.id()) < 0 ? a.id() : b.id();
    }

    // ---------------------------------------------------------------- NIP-01

    @Test
    void aStoredEventIsServedByteForByteAsItWasSigned() {
        Event note = alice.sign(1, List.of(List.of("t", "nostr")), "hello \u2028 \uD83D\uDE00", NOW - 5);
        assertEquals(WriteResult.Status.STORED, write(note).status());
        List<StoredEvent> found = store.query(filter("{\"ids\":[\"" + note.id() + "\"]}"), 10, NOW);
        assertEquals(1, found.size());
        assertEquals(note.json(), found.get(0).jsonText());
        assertTrue(store.contains(note.id()));
    }

    @Test
    void resultsAreNewestFirstAndEqualCreatedAtIsOrderedByLowestId() {
        Event old = alice.sign(1, List.of(), "old", NOW - 100);
        Event a = alice.sign(1, List.of(), "a", NOW - 10);
        Event b = alice.sign(1, List.of(), "b", NOW - 10);
        Event newest = alice.sign(1, List.of(), "new", NOW - 1);
        for (Event e : List.of(old, a, b, newest)) assertTrue(write(e).accepted());
        String first = lower(a, b);
        String second = first.equals(a.id()) ? b.id() : a.id();
        assertEquals(List.of(newest.id(), first, second, old.id()), authorIds(alice));
        assertEquals(List.of(newest.id(), first), store.query(filter("{\"authors\":[\"" + alice.pubkey() + "\"]}"), 2, NOW)
                .stream().map(StoredEvent::id).toList());
    }

    @Test
    void theSameEventTwiceIsAcceptedAsADuplicateAndStoredOnce() {
        Event note = alice.sign(1, List.of(), "once", NOW - 5);
        assertEquals(WriteResult.Status.STORED, write(note).status());
        WriteResult again = write(note);
        assertEquals(WriteResult.Status.DUPLICATE, again.status());
        assertTrue(again.accepted());
        assertTrue(again.message().startsWith("duplicate:"));
        assertEquals(List.of(note.id()), authorIds(alice));
    }

    @Test
    void theSameEventTwiceInOneBatchIsStoredOnceAndTheOtherIsADuplicate() {
        Event note = alice.sign(1, List.of(List.of("t", "twice")), "in one batch", NOW - 5);
        var first = store.write(note);
        var second = store.write(note);
        List<WriteResult.Status> statuses = new ArrayList<>(List.of(first.join().status(), second.join().status()));
        statuses.sort(Comparator.naturalOrder());
        assertEquals(List.of(WriteResult.Status.STORED, WriteResult.Status.DUPLICATE).stream().sorted().toList(), statuses);
        assertEquals(List.of(note.id()), ids("{\"#t\":[\"twice\"]}"));
    }

    @Test
    void aReplaceableOrAddressableEventSentTwiceIsADuplicateNotAnOlderVersion() {
        Event relays = alice.sign(10002, List.of(), "", NOW - 10);
        Event list = alice.sign(30000, List.of(List.of("d", "friends")), "", NOW - 10);
        for (Event e : List.of(relays, list)) {
            assertEquals(WriteResult.Status.STORED, write(e).status());
            WriteResult again = write(e);
            assertEquals(WriteResult.Status.DUPLICATE, again.status(), again.message());
            assertTrue(again.message().startsWith("duplicate:"));
        }
        assertEquals(List.of(relays.id(), list.id()).stream().sorted().toList(), authorIds(alice).stream().sorted().toList());
    }

    @Test
    void everyFilterFieldNarrowsTheResult() {
        Event job = alice.sign(5050, List.of(List.of("p", bob.pubkey())), "job", NOW - 50);
        Event note = bob.sign(1, List.of(List.of("t", "nostr")), "note", NOW - 20);
        Event feedback = bob.sign(7000, List.of(List.of("e", job.id()), List.of("p", alice.pubkey())), "", NOW - 10);
        for (Event e : List.of(job, note, feedback)) assertTrue(write(e).accepted());
        assertEquals(List.of(job.id()), ids("{\"kinds\":[5050]}"));
        assertEquals(List.of(feedback.id(), note.id()), authorIds(bob));
        assertEquals(List.of(note.id()), ids("{\"#t\":[\"nostr\"]}"));
        assertEquals(List.of(feedback.id()), ids("{\"#e\":[\"" + job.id() + "\"],\"#p\":[\"" + alice.pubkey() + "\"]}"));
        assertEquals(List.of(feedback.id(), note.id()), ids("{\"since\":" + (NOW - 20) + "}"));
        assertEquals(List.of(note.id(), job.id()), ids("{\"until\":" + (NOW - 20) + "}"));
        assertEquals(List.of(), ids("{\"kinds\":[1],\"authors\":[\"" + alice.pubkey() + "\"]}"));
    }

    @Test
    void aReplaceableEventKeepsOnlyTheLatestPerPubkeyAndKind() {
        Event first = alice.sign(0, List.of(), "{\"name\":\"a\"}", NOW - 100);
        Event second = alice.sign(0, List.of(), "{\"name\":\"b\"}", NOW - 50);
        Event bobs = bob.sign(0, List.of(), "{\"name\":\"bob\"}", NOW - 200);
        assertEquals(WriteResult.Status.STORED, write(first).status());
        assertEquals(WriteResult.Status.STORED, write(second).status());
        assertEquals(WriteResult.Status.STORED, write(bobs).status());
        assertEquals(List.of(second.id()), authorIds(alice));
        assertFalse(store.contains(first.id()));
        assertEquals(List.of(bobs.id()), authorIds(bob));
    }

    @Test
    void anOlderVersionOfAReplaceableEventArrivingLaterIsRefusedAsADuplicate() {
        Event newer = alice.sign(10002, List.of(), "", NOW - 10);
        Event older = alice.sign(10002, List.of(), "", NOW - 20);
        assertTrue(write(newer).accepted());
        WriteResult late = write(older);
        assertEquals(WriteResult.Status.REJECTED_OLDER, late.status());
        assertFalse(late.accepted());
        assertTrue(late.message().startsWith("duplicate:"));
        assertEquals(List.of(newer.id()), authorIds(alice));
    }

    @Test
    void replaceableVersionsWithTheSameCreatedAtKeepTheLowestId() {
        Event a = alice.sign(3, List.of(), "a", NOW - 10);
        Event b = alice.sign(3, List.of(), "b", NOW - 10);
        Event high = a.id().compareTo(b.id()) > 0 ? a : b;
        Event low = high == a ? b : a;
        assertEquals(WriteResult.Status.STORED, write(high).status());
        assertEquals(WriteResult.Status.STORED, write(low).status());
        assertEquals(WriteResult.Status.REJECTED_OLDER, write(high).status());
        assertEquals(List.of(low.id()), authorIds(alice));
    }

    @Test
    void anAddressableEventIsReplacedOnlyWithinItsKindPubkeyAndDTag() {
        Event listA1 = alice.sign(30000, List.of(List.of("d", "a")), "1", NOW - 30);
        Event listB = alice.sign(30000, List.of(List.of("d", "b")), "b", NOW - 20);
        Event listA2 = alice.sign(30000, List.of(List.of("d", "a")), "2", NOW - 10);
        Event bobsA = bob.sign(30000, List.of(List.of("d", "a")), "bob", NOW - 40);
        for (Event e : List.of(listA1, listB, listA2, bobsA)) assertEquals(WriteResult.Status.STORED, write(e).status());
        assertEquals(List.of(listA2.id(), listB.id()), authorIds(alice));
        assertEquals(List.of(bobsA.id()), authorIds(bob));
        assertEquals(WriteResult.Status.REJECTED_OLDER, write(alice.sign(30000, List.of(List.of("d", "a")), "0", NOW - 50)).status());
    }

    @Test
    void anAddressableEventWithoutADTagHasTheEmptyDTag() {
        Event none = alice.sign(30001, List.of(), "none", NOW - 20);
        Event empty = alice.sign(30001, List.of(List.of("d", "")), "empty", NOW - 10);
        assertEquals(WriteResult.Status.STORED, write(none).status());
        assertEquals(WriteResult.Status.STORED, write(empty).status());
        assertEquals(List.of(empty.id()), authorIds(alice));
    }

    // ---------------------------------------------------------------- NIP-09

    @Test
    void aDeletionRequestRemovesTheAuthorsEventAndTheEventCannotBeStoredAgain() {
        Event note = alice.sign(1, List.of(), "regret", NOW - 20);
        assertTrue(write(note).accepted());
        Event deletion = alice.sign(5, List.of(List.of("e", note.id())), "", NOW - 10);
        assertEquals(WriteResult.Status.STORED, write(deletion).status());
        assertFalse(store.contains(note.id()));
        assertEquals(List.of(deletion.id()), authorIds(alice));
        WriteResult again = write(note);
        assertEquals(WriteResult.Status.BLOCKED, again.status());
        assertTrue(again.message().startsWith("blocked:"));
    }

    @Test
    void aDeletionRequestArrivingBeforeItsEventStillKeepsTheEventOut() {
        Event note = alice.sign(1, List.of(), "never", NOW - 20);
        assertTrue(write(alice.sign(5, List.of(List.of("e", note.id())), "", NOW - 10)).accepted());
        assertEquals(WriteResult.Status.BLOCKED, write(note).status());
        assertFalse(store.contains(note.id()));
    }

    @Test
    void aDeletionRequestCannotDeleteAnotherAuthorsEvent() {
        Event stored = alice.sign(1, List.of(), "mine", NOW - 30);
        Event notYetStored = alice.sign(1, List.of(), "also mine", NOW - 25);
        assertTrue(write(stored).accepted());
        assertTrue(write(bob.sign(5, List.of(List.of("e", stored.id()), List.of("e", notYetStored.id())), "", NOW - 10)).accepted());
        assertTrue(store.contains(stored.id()));
        assertEquals(WriteResult.Status.STORED, write(notYetStored).status());
    }

    @Test
    void aDeletionRequestCannotDeleteADeletionRequest() {
        Event note = alice.sign(1, List.of(), "x", NOW - 30);
        Event deletion = alice.sign(5, List.of(List.of("e", note.id())), "", NOW - 20);
        assertTrue(write(note).accepted());
        assertTrue(write(deletion).accepted());
        assertTrue(write(alice.sign(5, List.of(List.of("e", deletion.id())), "", NOW - 10)).accepted());
        assertTrue(store.contains(deletion.id()));
        // Stored and named by its author's later deletion at once: sent again, it is a duplicate, not blocked.
        assertEquals(WriteResult.Status.DUPLICATE, write(deletion).status());
    }

    @Test
    void aDeletionRequestSentTwiceIsADuplicateAndItsEventStaysDeleted() {
        Event note = alice.sign(1, List.of(), "gone", NOW - 30);
        Event deletion = alice.sign(5, List.of(List.of("e", note.id())), "", NOW - 20);
        assertTrue(write(note).accepted());
        assertEquals(WriteResult.Status.STORED, write(deletion).status());
        assertEquals(WriteResult.Status.DUPLICATE, write(deletion).status());
        assertEquals(List.of(deletion.id()), authorIds(alice));
        assertEquals(WriteResult.Status.BLOCKED, write(note).status());
    }

    @Test
    void deletingAnAddressRemovesVersionsUpToTheDeletionsCreatedAtAndRefusesThemLater() {
        Event v1 = alice.sign(30023, List.of(List.of("d", "post")), "v1", NOW - 30);
        Event other = alice.sign(30023, List.of(List.of("d", "other")), "other", NOW - 30);
        assertTrue(write(v1).accepted());
        assertTrue(write(other).accepted());
        String address = "30023:" + alice.pubkey() + ":post";
        assertTrue(write(alice.sign(5, List.of(List.of("a", address)), "", NOW - 20)).accepted());
        assertFalse(store.contains(v1.id()));
        assertTrue(store.contains(other.id()));
        assertEquals(WriteResult.Status.BLOCKED, write(alice.sign(30023, List.of(List.of("d", "post")), "v0", NOW - 25)).status());
        assertEquals(WriteResult.Status.BLOCKED, write(alice.sign(30023, List.of(List.of("d", "post")), "same second", NOW - 20)).status());
        Event v2 = alice.sign(30023, List.of(List.of("d", "post")), "v2", NOW - 10);
        assertEquals(WriteResult.Status.STORED, write(v2).status());
    }

    @Test
    void aDeletionRequestCannotDeleteAnotherAuthorsAddress() {
        Event post = alice.sign(30023, List.of(List.of("d", "post")), "v1", NOW - 30);
        assertTrue(write(post).accepted());
        assertTrue(write(bob.sign(5, List.of(List.of("a", "30023:" + alice.pubkey() + ":post")), "", NOW - 10)).accepted());
        assertTrue(store.contains(post.id()));
    }

    @Test
    void deletingAReplaceableAddressUsesTheEmptyDTag() {
        Event profile = alice.sign(0, List.of(), "{}", NOW - 30);
        assertTrue(write(profile).accepted());
        assertTrue(write(alice.sign(5, List.of(List.of("a", "0:" + alice.pubkey() + ":")), "", NOW - 20)).accepted());
        assertFalse(store.contains(profile.id()));
    }

    // ---------------------------------------------------------------- NIP-40 and retention

    @Test
    void anEventPastItsExpirationIsNoLongerServedAndTheSweepRemovesIt() {
        Event expiring = alice.sign(1, List.of(List.of("expiration", String.valueOf(NOW + 10))), "soon gone", NOW - 5);
        Event lasting = alice.sign(1, List.of(), "stays", NOW - 5);
        assertTrue(write(expiring).accepted());
        assertTrue(write(lasting).accepted());
        assertTrue(store.query(filter("{\"ids\":[\"" + expiring.id() + "\"]}"), 10, NOW).size() == 1);
        assertEquals(List.of(lasting.id()), store.query(filter("{\"authors\":[\"" + alice.pubkey() + "\"]}"), 10, NOW + 10)
                .stream().map(StoredEvent::id).toList());
        assertEquals(1, store.count(List.of(filter("{\"authors\":[\"" + alice.pubkey() + "\"]}")), NOW + 10));
        assertEquals(1, store.deleteExpired(NOW + 10, 100));
        assertFalse(store.contains(expiring.id()));
        assertTrue(store.contains(lasting.id()));
    }

    @Test
    void jobRequestsAreServedForTheRetentionPolicysWindowOnly() {
        Event request = alice.sign(5050, List.of(), "job", NOW - 10);
        Event shortened = alice.sign(5050, List.of(List.of("expiration", String.valueOf(NOW + 60))), "job", NOW - 10);
        assertTrue(write(request).accepted());
        assertTrue(write(shortened).accepted());
        assertEquals(2, store.count(List.of(filter("{\"kinds\":[5050]}")), NOW + 59));
        assertEquals(List.of(request.id()), store.query(filter("{\"kinds\":[5050]}"), 10, NOW + 60).stream().map(StoredEvent::id).toList());
        long end = NOW - 10 + RetentionPolicy.DEFAULT.jobRequestSeconds();
        assertEquals(1, store.count(List.of(filter("{\"kinds\":[5050]}")), end - 1));
        assertEquals(0, store.count(List.of(filter("{\"kinds\":[5050]}")), end));
    }

    // ---------------------------------------------------------------- NIP-45, NIP-77, streaming, NIP-86

    @Test
    void countCountsAnEventMatchedByTwoFiltersOnce() {
        Event note = alice.sign(1, List.of(List.of("t", "x")), "n", NOW - 5);
        Event other = bob.sign(1, List.of(), "o", NOW - 5);
        assertTrue(write(note).accepted());
        assertTrue(write(other).accepted());
        assertEquals(2, store.count(List.of(filter("{\"kinds\":[1]}"), filter("{\"#t\":[\"x\"]}")), NOW));
        assertEquals(1, store.count(List.of(filter("{\"#t\":[\"x\"]}")), NOW));
    }

    @Test
    void negentropyScansGiveOldestFirstTheFiltersNewestLimitAndStopAtTheMaximum() {
        List<Event> events = new ArrayList<>();
        for (int i = 0; i < 6; i++) events.add(alice.sign(1, List.of(), "n" + i, NOW - 100 + (i / 2)));
        events.forEach(e -> assertTrue(write(e).accepted()));
        List<String> ascending = events.stream()
                .sorted(Comparator.comparingLong(Event::createdAt).thenComparing(Event::id)).map(Event::id).toList();
        List<String> seen = new ArrayList<>();
        assertEquals(6, store.scanIdsAscending(filter("{\"kinds\":[1]}"), NOW, 100, (createdAt, id) -> seen.add(id)));
        assertEquals(ascending, seen);
        seen.clear();
        assertEquals(4, store.scanIdsAscending(filter("{\"kinds\":[1],\"limit\":4}"), NOW, 100, (createdAt, id) -> seen.add(id)));
        assertEquals(ascending.subList(2, 6), seen);
        seen.clear();
        assertEquals(3, store.scanIdsAscending(filter("{\"kinds\":[1]}"), NOW, 3, (createdAt, id) -> seen.add(id)));
        assertEquals(ascending.subList(0, 3), seen);
    }

    @Test
    void streamingWalksTheWholeResultInQueryOrderPageByPageAcrossEqualCreatedAt() {
        List<Event> events = new ArrayList<>();
        // Seven events share one second, so pages of three must resume inside a created_at.
        for (int i = 0; i < 7; i++) events.add(alice.sign(1, List.of(), "same" + i, NOW - 50));
        for (int i = 0; i < 5; i++) events.add(alice.sign(1, List.of(), "t" + i, NOW - 40 + i));
        events.add(alice.sign(1, List.of(List.of("expiration", String.valueOf(NOW - 1))), "expired", NOW - 45));
        events.forEach(e -> assertTrue(write(e).accepted()));
        List<String> expected = ids("{\"kinds\":[1]}");
        assertEquals(12, expected.size());
        List<String> streamed = new ArrayList<>();
        assertEquals(12, store.stream(filter("{\"kinds\":[1],\"limit\":2}"), NOW, 3, e -> streamed.add(e.id())));
        assertEquals(expected, streamed);
        List<String> firstFour = new ArrayList<>();
        assertEquals(4, store.stream(filter("{\"kinds\":[1]}"), NOW, 3, e -> firstFour.add(e.id()) && firstFour.size() < 4));
        assertEquals(expected.subList(0, 4), firstFour);
    }

    @Test
    void anEventBannedByTheOperatorIsRemovedAndRefusedUntilTheBanIsLifted() {
        Event note = alice.sign(1, List.of(), "spam", NOW - 5);
        assertTrue(write(note).accepted());
        Moderation.Entry ban = new Moderation.Entry(Moderation.BANNED_EVENT, note.id(), "spam");
        store.moderate(Moderation.Change.ADD, ban).join();
        assertFalse(store.contains(note.id()));
        assertEquals(WriteResult.Status.BLOCKED, write(note).status());
        assertTrue(store.moderation().contains(ban));
        store.moderate(Moderation.Change.REMOVE, ban).join();
        assertEquals(WriteResult.Status.STORED, write(note).status());
    }
}
