package dev.nexus.server.sync;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;

/**
 * What a peer's NIP-11 document says about the limits a sync must stay within. A peer without
 * NIP-11 (or with fields missing) gets conservative defaults: 128 KiB messages (strfry's default
 * payload size), 500 events per REQ.
 */
record PeerLimits(int maxMessageLength, int maxLimit, long maxNegentropyEvents, boolean advertisesNip77) {
    static final PeerLimits UNKNOWN = new PeerLimits(131072, 500, 0, false);
    private static final ObjectMapper JSON = new ObjectMapper();

    /** The negentropy frame size limit that keeps our messages (hex, so twice the bytes, plus the envelope) under the peer's. */
    long negentropyFrameLimit() {
        return Math.max(dev.nexus.core.nip77.Negentropy.MIN_FRAME_SIZE_LIMIT, maxMessageLength / 2L - 512);
    }

    /** Ids per REQ when fetching: the peer's max_limit, at most 500 (small REQs keep each answer small). */
    int fetchBatch() {
        return Math.max(1, Math.min(500, maxLimit));
    }

    static PeerLimits fetch(HttpClient http, String wsUrl) {
        try {
            URI uri = URI.create(wsUrl.replaceFirst("^ws", "http"));
            HttpRequest request = HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(5)).header("Accept", "application/nostr+json").GET().build();
            HttpResponse<String> response = http.send(request, HttpResponse.BodyHandlers.ofString());
            if (response.statusCode() != 200) return UNKNOWN;
            return parse(JSON.readTree(response.body()));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return UNKNOWN;
        } catch (Exception e) {
            return UNKNOWN;
        }
    }

    static PeerLimits parse(JsonNode info) {
        JsonNode l = info.path("limitation");
        boolean nip77 = false;
        for (JsonNode n : info.path("supported_nips")) if (n.asInt() == 77) nip77 = true;
        int maxMessage = l.path("max_message_length").asInt(0);
        int maxLimit = l.path("max_limit").asInt(0);
        return new PeerLimits(maxMessage >= 8192 ? maxMessage : UNKNOWN.maxMessageLength(), maxLimit > 0 ? maxLimit : UNKNOWN.maxLimit(),
                Math.max(0, l.path("max_negentropy_events").asLong(0)), nip77);
    }
}
