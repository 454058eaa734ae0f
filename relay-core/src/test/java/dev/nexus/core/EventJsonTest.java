package dev.nexus.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class EventJsonTest {
    private static final String PK = "79be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798";

    /** Ids computed by nostr-tools' getEventHash (the reference JS signer) for awkward contents. */
    static Stream<Arguments> referenceVectors() throws Exception {
        try (InputStream in = EventJsonTest.class.getResourceAsStream("/canonical-id-vectors.json")) {
            JsonNode root = new ObjectMapper().readTree(in);
            List<Arguments> out = new ArrayList<>();
            for (JsonNode v : root) out.add(Arguments.of(v.get("name").asText(), v.get("content").asText(), v.get("id").asText()));
            return out.stream();
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("referenceVectors")
    void eventIdMatchesTheReferenceSignerForAwkwardContent(String name, String content, String expectedId) {
        List<List<String>> tags = List.of(List.of("t", content), List.of("p", PK));
        assertEquals(expectedId, EventJson.computeId(PK, 1700000000L, 1, tags, content));
    }

    @Test
    void canonicalSerializationEscapesOnlyWhatNip01Lists() {
        String canonical = EventJson.canonical(PK, 1, 1, List.of(), "a\"b\\c\nd\re\tf\bg\fh/é🚀\u2028");
        assertEquals("[0,\"" + PK + "\",1,1,[],\"a\\\"b\\\\c\\nd\\re\\tf\\bg\\fh/é🚀\u2028\"]", canonical);
    }

    @Test
    void otherControlCharactersUseLowercaseUnicodeEscapes() {
        String canonical = EventJson.canonical(PK, 1, 1, List.of(), "\u0001\u001f");
        assertTrue(canonical.endsWith("\"\\u0001\\u001f\"]"), canonical);
    }

    @Test
    void parsedEventRoundTripsThroughItsWireForm() throws Exception {
        String content = "multi\nline \"quoted\" 🚀";
        String id = EventJson.computeId(PK, 1700000000L, 5050, List.of(List.of("p", PK)), content);
        String json = "{\"id\":\"" + id + "\",\"pubkey\":\"" + PK + "\",\"created_at\":1700000000,\"kind\":5050,"
                + "\"tags\":[[\"p\",\"" + PK + "\"]],\"content\":" + quote(content) + ",\"sig\":\"" + "ab".repeat(64) + "\"}";
        ClientMessage m = new ClientMessageParser(ProtocolLimits.DEFAULT).parse("[\"EVENT\"," + json + "]");
        Event e = ((ClientMessage.Publish) m).event();
        assertEquals(json, e.json());
        assertEquals(5050, e.kind());
        assertEquals(PK, e.firstTagValue("p"));
    }

    @Test
    void idThatDoesNotMatchTheContentIsRejected() {
        String json = "[\"EVENT\",{\"id\":\"" + "00".repeat(32) + "\",\"pubkey\":\"" + PK + "\",\"created_at\":1,\"kind\":1,"
                + "\"tags\":[],\"content\":\"x\",\"sig\":\"" + "ab".repeat(64) + "\"}]";
        InvalidEventException e = assertThrows(InvalidEventException.class,
                () -> new ClientMessageParser(ProtocolLimits.DEFAULT).parse(json));
        assertEquals("00".repeat(32), e.eventId());
        assertTrue(e.getMessage().contains("id does not match"));
    }

    private static String quote(String s) {
        StringBuilder sb = new StringBuilder();
        EventJson.appendQuoted(sb, s);
        return sb.toString();
    }
}
