package dev.nexus.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.nexus.core.testing.NostrKey;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class ClientMessageParserTest {
    private final ClientMessageParser parser = new ClientMessageParser(new ProtocolLimits(5, 100, 2, 8, 3));

    @ParameterizedTest
    @ValueSource(strings = {"not json", "{}", "[]", "[1]", "[\"HELLO\"]", "[\"CLOSE\"]", "[\"CLOSE\",\"a\",\"b\"]",
            "[\"REQ\"]", "[\"EVENT\"]", "[\"EVENT\",1]", "[\"CLOSE\",\"a\"] trailing", "[\"REQ\",\"\",{}]",
            "[\"REQ\",\"waytoolongid\",{}]"})
    void malformedMessagesAreReportedAsNotices(String frame) {
        assertThrows(MalformedMessageException.class, () -> parser.parse(frame));
    }

    @Test
    void reqWithSeveralFiltersIsParsed() throws Exception {
        ClientMessage m = parser.parse("[\"REQ\",\"sub\",{\"kinds\":[1]},{\"#e\":[\"x\"],\"limit\":5}]");
        ClientMessage.Subscribe s = assertInstanceOf(ClientMessage.Subscribe.class, m);
        assertEquals("sub", s.subscriptionId());
        assertEquals(2, s.filters().size());
        assertEquals(5, s.filters().get(1).limit());
        assertTrue(s.filters().get(1).tags().get("e").contains("x"));
    }

    @Test
    void countTakesTheSameFiltersAsReq() throws Exception {
        ClientMessage.Count c = assertInstanceOf(ClientMessage.Count.class, parser.parse("[\"COUNT\",\"n\",{\"kinds\":[5050]},{\"#p\":[\"x\"]}]"));
        assertEquals("n", c.subscriptionId());
        assertEquals(2, c.filters().size());
        assertTrue(c.filters().get(0).kinds().contains(5050));
        InvalidFilterException e = assertThrows(InvalidFilterException.class, () -> parser.parse("[\"COUNT\",\"n\"]"));
        assertEquals("invalid: COUNT needs at least one filter", e.getMessage());
    }

    @ParameterizedTest
    @ValueSource(strings = {"{\"ids\":[\"ABC\"]}", "{\"authors\":[\"" + "A" + "0000000000000000000000000000000000000000000000000000000000000\"]}",
            "{\"kinds\":[2147483648]}", "{\"kinds\":[-1]}", "{\"kinds\":[5050.5]}", "{\"kinds\":[\"1\"]}", "{\"since\":-1}", "{\"limit\":1.5}", "{\"search\":\"x\"}",
            "{\"#tag\":[\"x\"]}", "{\"#e\":[1]}", "{\"kinds\":[1,2,3,4]}", "5"})
    void invalidFiltersCloseTheSubscriptionWithAReason(String filter) {
        InvalidFilterException e = assertThrows(InvalidFilterException.class, () -> parser.parse("[\"REQ\",\"s1\"," + filter + "]"));
        assertEquals("s1", e.subscriptionId());
        assertTrue(e.getMessage().startsWith("invalid: "), e.getMessage());
    }

    @Test
    void kindsUpToTwoToTheThirtyOneMinusOneAreAcceptedInFiltersAndEvents() throws Exception {
        ClientMessage.Subscribe r = assertInstanceOf(ClientMessage.Subscribe.class,
                parser.parse("[\"REQ\",\"dvm\",{\"kinds\":[68001,2147483647],\"#j\":[\"speech-to-text\"]}]"));
        assertEquals(java.util.Set.of(68001, Integer.MAX_VALUE), r.filters().get(0).kinds());
        Event job = NostrKey.generate().sign(68001, List.of(List.of("j", "speech-to-text")), "");
        assertEquals(68001, assertInstanceOf(ClientMessage.Publish.class, parser.parse(NostrKey.eventMessage(job))).event().kind());
        Event largest = NostrKey.generate().sign(Integer.MAX_VALUE, List.of(), "");
        assertEquals(Integer.MAX_VALUE, assertInstanceOf(ClientMessage.Publish.class, parser.parse(NostrKey.eventMessage(largest))).event().kind());
    }

    @Test
    void tooManyFiltersIsRefused() {
        InvalidFilterException e = assertThrows(InvalidFilterException.class, () -> parser.parse("[\"REQ\",\"s1\",{},{},{}]"));
        assertTrue(e.getMessage().contains("too many filters"));
    }

    @Test
    void eventFieldsAreTypeChecked() {
        String pk = "a".repeat(64);
        for (String bad : List.of(
                "{\"id\":\"" + "b".repeat(64) + "\",\"pubkey\":\"" + pk + "\",\"created_at\":\"1\",\"kind\":1,\"tags\":[],\"content\":\"\",\"sig\":\"" + "c".repeat(128) + "\"}",
                "{\"id\":\"" + "b".repeat(64) + "\",\"pubkey\":\"" + pk.toUpperCase() + "\",\"created_at\":1,\"kind\":1,\"tags\":[],\"content\":\"\",\"sig\":\"" + "c".repeat(128) + "\"}",
                "{\"id\":\"" + "b".repeat(64) + "\",\"pubkey\":\"" + pk + "\",\"created_at\":1,\"kind\":1,\"tags\":[[1]],\"content\":\"\",\"sig\":\"" + "c".repeat(128) + "\"}",
                "{\"id\":\"" + "b".repeat(64) + "\",\"pubkey\":\"" + pk + "\",\"created_at\":1,\"kind\":2147483648,\"tags\":[],\"content\":\"\",\"sig\":\"" + "c".repeat(128) + "\"}",
                "{\"id\":\"" + "b".repeat(64) + "\",\"pubkey\":\"" + pk + "\",\"created_at\":1,\"kind\":-1,\"tags\":[],\"content\":\"\",\"sig\":\"" + "c".repeat(128) + "\"}",
                "{\"id\":\"" + "b".repeat(64) + "\",\"pubkey\":\"" + pk + "\",\"created_at\":1,\"kind\":68001.5,\"tags\":[],\"content\":\"\",\"sig\":\"" + "c".repeat(128) + "\"}",
                "{\"id\":\"" + "b".repeat(64) + "\",\"pubkey\":\"" + pk + "\",\"created_at\":1,\"kind\":\"68001\",\"tags\":[],\"content\":\"\",\"sig\":\"" + "c".repeat(128) + "\"}",
                "{\"id\":\"" + "b".repeat(64) + "\",\"pubkey\":\"" + pk + "\",\"created_at\":1,\"kind\":1,\"tags\":[],\"content\":\"\",\"sig\":\"" + "c".repeat(127) + "\"}",
                "{\"id\":\"" + "b".repeat(64) + "\",\"pubkey\":\"" + pk + "\",\"created_at\":1,\"kind\":1,\"content\":\"\",\"sig\":\"" + "c".repeat(128) + "\"}")) {
            InvalidEventException e = assertThrows(InvalidEventException.class, () -> parser.parse("[\"EVENT\"," + bad + "]"), bad);
            assertEquals("b".repeat(64), e.eventId());
        }
    }

    @Test
    void tooManyTagsAndTooLongContentAreRefused() {
        NostrKey key = NostrKey.generate();
        Event manyTags = key.sign(1, List.of(List.of("t", "1"), List.of("t", "2"), List.of("t", "3"), List.of("t", "4"), List.of("t", "5"), List.of("t", "6")), "x");
        assertTrue(assertThrows(InvalidEventException.class, () -> parser.parse(NostrKey.eventMessage(manyTags))).getMessage().contains("too many tags"));
        Event longContent = key.sign(1, List.of(), "x".repeat(101));
        assertTrue(assertThrows(InvalidEventException.class, () -> parser.parse(NostrKey.eventMessage(longContent))).getMessage().contains("content"));
    }

    @Test
    void closeAndAuthAreParsed() throws Exception {
        assertEquals("abc", assertInstanceOf(ClientMessage.Unsubscribe.class, parser.parse("[\"CLOSE\",\"abc\"]")).subscriptionId());
        Event auth = NostrKey.generate().sign(Kinds.AUTH, List.of(List.of("challenge", "c")), "");
        assertEquals(auth, assertInstanceOf(ClientMessage.Authenticate.class, parser.parse("[\"AUTH\"," + auth.json() + "]")).event());
    }
}
