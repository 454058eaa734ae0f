package dev.nexus.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.fail;

import dev.nexus.core.testing.NostrKey;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * NIP-01: "every EVENT gets an OK". An EVENT whose id reads as 64 hex characters is refused with
 * an OK correlated to that id (InvalidEventException carrying the id), never only with a NOTICE,
 * whatever else is wrong with it: wrong types, huge numbers, deep nesting, fields in any order.
 */
class EveryEventGetsAnOkFuzzTest {
    private static final String[] HOSTILE_VALUES = {
            "1e400", "-1e400", "99999999999999999999999999", "-99999999999999999999999999", "1.5", "null", "true",
            "{}", "[]", "\"x\"", "[[\"e\",1]]", "[\"e\"]", "{\"a\":[1,2,{\"b\":null}]}", "123456789012345678901234567890e99",
            nested(20), nested(5000), nestedObjects(3000), "[" + "1,".repeat(100) + "1]", "\"" + "\\u0000".repeat(10) + "\"",
            "0." + "9".repeat(2000), "9".repeat(5000),
    };
    private static final String[] FIELDS = {"pubkey", "created_at", "kind", "tags", "content", "sig", "extra"};

    private final ClientMessageParser parser = new ClientMessageParser(ProtocolLimits.DEFAULT);
    private final NostrKey key = NostrKey.generate();

    @Test
    void everyFuzzedEventWithAReadableIdIsRefusedWithThatId() {
        Random random = new Random(42);
        Event valid = key.sign(1, List.of(List.of("t", "x")), "hello");
        int frames = 0;
        for (int round = 0; round < 3000; round++) {
            List<String> members = new ArrayList<>(List.of(
                    "\"pubkey\":\"" + valid.pubkey() + "\"", "\"created_at\":" + valid.createdAt(), "\"kind\":1",
                    "\"tags\":[[\"t\",\"x\"]]", "\"content\":\"hello\"", "\"sig\":\"" + valid.sig() + "\""));
            int broken = 1 + random.nextInt(3);
            for (int b = 0; b < broken; b++) {
                // The first broken field is always a signed one, so the event is never accidentally valid.
                String field = FIELDS[random.nextInt(b == 0 ? FIELDS.length - 1 : FIELDS.length)];
                String value = HOSTILE_VALUES[random.nextInt(HOSTILE_VALUES.length)];
                members.removeIf(m -> m.startsWith("\"" + field + "\":"));
                members.add("\"" + field + "\":" + value);
            }
            Collections.shuffle(members, random);
            members.add(random.nextInt(members.size() + 1), "\"id\":\"" + valid.id() + "\"");
            String frame = "[\"EVENT\",{" + String.join(",", members) + "}]";
            if (random.nextInt(10) == 0) frame = frame + " trailing";
            if (random.nextInt(10) == 0) frame = frame.substring(0, frame.length() - 2); // unterminated
            assertRefusedWithId(frame, valid.id());
            frames++;
        }
        assertEquals(3000, frames);
    }

    @ParameterizedTest
    @ValueSource(strings = {"\"kind\":1e400", "\"kind\":99999999999999999999999999", "\"created_at\":1e400",
            "\"created_at\":99999999999999999999999999", "\"tags\":\"nope\"", "\"content\":7", "\"sig\":null"})
    void aHostileFieldBeforeTheIdStillGetsAnOkForThatId(String hostile) {
        Event valid = key.sign(1, List.of(), "x");
        String json = valid.json();
        String frame = "[\"EVENT\",{" + hostile + "," + json.substring(1) + "]";
        assertRefusedWithId(frame, valid.id());
    }

    @Test
    void deepNestingAnywhereInTheEventStillGetsAnOk() {
        Event valid = key.sign(1, List.of(), "x");
        String frame = "[\"EVENT\",{\"x\":" + nested(100_000) + "," + valid.json().substring(1) + "]";
        assertRefusedWithId(frame, valid.id());
    }

    @Test
    void anAuthMessageWithAReadableIdIsAnsweredWithItsOkToo() {
        Event valid = key.sign(Kinds.AUTH, List.of(), "");
        assertRefusedWithId("[\"AUTH\",{\"kind\":1e400," + valid.json().substring(1) + "]", valid.id());
    }

    @ParameterizedTest
    @ValueSource(strings = {"[\"EVENT\",{\"id\":\"nothex\",\"kind\":1e400}]", "[\"EVENT\",{\"kind\":1e400}]",
            "[\"EVENT\",{\"tags\":[{\"id\":\"" + "ab" + "\"}]}]", "[\"REQ\",{\"id\":\"0000000000000000000000000000000000000000000000000000000000000000\"}]"})
    void withoutAReadableEventIdThereIsNothingToCorrelateSoNoIdIsInvented(String frame) {
        try {
            parser.parse(frame);
            fail("should be refused: " + frame);
        } catch (InvalidEventException e) {
            if (e.eventId() != null) assertEquals("nothex", e.eventId());
        } catch (MalformedMessageException | InvalidFilterException expected) {
            // a NOTICE or CLOSED is all that can be said
        }
    }

    @Test
    void anIdInsideANestedObjectIsNotMistakenForTheEventsId() {
        String inner = "0".repeat(64);
        assertNull(EventIdScanner.scan(("[\"EVENT\",{\"x\":{\"id\":\"" + inner + "\"},\"kind\":1e400}]").getBytes(), 0,
                ("[\"EVENT\",{\"x\":{\"id\":\"" + inner + "\"},\"kind\":1e400}]").length()));
    }

    private void assertRefusedWithId(String frame, String id) {
        try {
            parser.parse(frame);
            fail("a broken event was accepted: " + abbreviate(frame));
        } catch (InvalidEventException e) {
            assertEquals(id, e.eventId(), "OK must carry the event's id for " + abbreviate(frame) + " (" + e.getMessage() + ")");
        } catch (MalformedMessageException | InvalidFilterException e) {
            fail("answered with a NOTICE instead of an OK (" + e.getMessage() + ") for " + abbreviate(frame));
        }
    }

    private static String nested(int depth) {
        return "[".repeat(depth) + "]".repeat(depth);
    }

    private static String nestedObjects(int depth) {
        return "{\"a\":".repeat(depth) + "1" + "}".repeat(depth);
    }

    private static String abbreviate(String s) {
        return s.length() <= 300 ? s : s.substring(0, 300) + "...";
    }
}
