package dev.nexus.core;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.nexus.core.testing.NostrKey;
import java.util.List;
import org.junit.jupiter.api.Test;

class FilterTest {
    private static final NostrKey ALICE = NostrKey.generate();
    private static final NostrKey BOB = NostrKey.generate();
    private final ClientMessageParser parser = new ClientMessageParser(ProtocolLimits.DEFAULT);
    private final Event job = ALICE.sign(5050, List.of(List.of("p", BOB.pubkey()), List.of("param", "model", "x")), "job", 1000);

    private Filter filter(String json) throws Exception {
        return ((ClientMessage.Subscribe) parser.parse("[\"REQ\",\"s\"," + json + "]")).filters().get(0);
    }

    @Test
    void anEmptyFilterMatchesEverything() throws Exception {
        assertTrue(filter("{}").matches(job));
    }

    @Test
    void idsAuthorsAndKindsMustEachContainTheEventsValue() throws Exception {
        assertTrue(filter("{\"ids\":[\"" + job.id() + "\"]}").matches(job));
        assertFalse(filter("{\"ids\":[\"" + "0".repeat(64) + "\"]}").matches(job));
        assertTrue(filter("{\"authors\":[\"" + ALICE.pubkey() + "\"]}").matches(job));
        assertFalse(filter("{\"authors\":[\"" + BOB.pubkey() + "\"]}").matches(job));
        assertTrue(filter("{\"kinds\":[1,5050]}").matches(job));
        assertFalse(filter("{\"kinds\":[1]}").matches(job));
    }

    @Test
    void sinceAndUntilAreInclusive() throws Exception {
        assertTrue(filter("{\"since\":1000,\"until\":1000}").matches(job));
        assertFalse(filter("{\"since\":1001}").matches(job));
        assertFalse(filter("{\"until\":999}").matches(job));
    }

    @Test
    void aTagFilterMatchesTheFirstValueOfASingleLetterTag() throws Exception {
        assertTrue(filter("{\"#p\":[\"" + BOB.pubkey() + "\"]}").matches(job));
        assertFalse(filter("{\"#p\":[\"" + ALICE.pubkey() + "\"]}").matches(job));
        assertFalse(filter("{\"#e\":[\"" + BOB.pubkey() + "\"]}").matches(job));
    }

    @Test
    void allConditionsOfOneFilterMustHold() throws Exception {
        assertTrue(filter("{\"kinds\":[5050],\"#p\":[\"" + BOB.pubkey() + "\"],\"authors\":[\"" + ALICE.pubkey() + "\"]}").matches(job));
        assertFalse(filter("{\"kinds\":[5050],\"#p\":[\"" + BOB.pubkey() + "\"],\"authors\":[\"" + BOB.pubkey() + "\"]}").matches(job));
    }

    @Test
    void anEmptyListMatchesNothing() throws Exception {
        Filter f = filter("{\"kinds\":[]}");
        assertTrue(f.matchesNothing());
        assertFalse(f.matches(job));
    }
}
