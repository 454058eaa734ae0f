package dev.nexus.server.sync;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.nexus.core.Filter;
import org.junit.jupiter.api.Test;

class FilterJsonTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @Test
    void aFilterWrittenAndParsedBackIsTheSame() throws Exception {
        String json = "{\"ids\":[\"" + "a".repeat(64) + "\"],\"authors\":[\"" + "b".repeat(64) + "\"],\"kinds\":[1,31990],"
                + "\"#d\":[\"x\\\"y\"],\"#p\":[\"" + "c".repeat(64) + "\"],\"since\":10,\"until\":20,\"limit\":5}";
        Filter f = FilterJson.parse(json);
        String written = FilterJson.write(f);
        assertEquals(JSON.readTree(json), JSON.readTree(written));
        assertEquals("{}", FilterJson.write(FilterJson.parse("{}")));
        Filter narrowed = FilterJson.withTimes(f, 12L, 15L);
        assertEquals(12L, narrowed.since());
        assertEquals(f.tags(), narrowed.tags());
        assertThrows(IllegalArgumentException.class, () -> FilterJson.parse("{\"kinds\":\"1\"}"));
    }

    @Test
    void peerLimitsComeFromNip11WithDefaultsForWhatIsMissing() throws Exception {
        PeerLimits nexus = PeerLimits.parse(JSON.readTree("{\"supported_nips\":[1,11,77],\"limitation\":{\"max_message_length\":524288,"
                + "\"max_limit\":300,\"max_negentropy_events\":500000}}"));
        assertEquals(new PeerLimits(524288, 300, 500000, true), nexus);
        assertEquals(524288 / 2 - 512, nexus.negentropyFrameLimit());
        assertEquals(300, nexus.fetchBatch());
        PeerLimits bare = PeerLimits.parse(JSON.readTree("{}"));
        assertEquals(PeerLimits.UNKNOWN, bare);
        assertEquals(500, bare.fetchBatch());
        assertEquals(131072 / 2 - 512, bare.negentropyFrameLimit());
    }
}
