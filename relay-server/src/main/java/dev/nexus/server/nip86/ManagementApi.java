package dev.nexus.server.nip86;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.nexus.core.Hex;
import dev.nexus.core.KindRanges;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;

/**
 * NIP-86 relay management: one JSON-RPC-like call ({@code {"method": ..., "params": [...]}}) in,
 * {@code {"result": ...}} or {@code {"result": null, "error": ...}} out. Authorization is checked
 * before a call gets here ({@link ManagementEndpoint}).
 */
public final class ManagementApi {
    static final List<String> METHODS = List.of("supportedmethods",
            "banpubkey", "unbanpubkey", "listbannedpubkeys", "allowpubkey", "unallowpubkey", "listallowedpubkeys",
            "banevent", "allowevent", "listbannedevents", "listeventsneedingmoderation",
            "allowkind", "disallowkind", "listallowedkinds",
            "blockip", "unblockip", "listblockedips",
            "changerelayname", "changerelaydescription", "changerelayicon");
    /** Kind ranges wider than this are not spelled out kind by kind in listallowedkinds. */
    private static final int MAX_LISTED_RANGE = 1000;
    private static final ObjectMapper MAPPER = new ObjectMapper();
    private static final JsonNodeFactory NODES = JsonNodeFactory.instance;

    private final RelayModeration moderation;

    public ManagementApi(RelayModeration moderation) {
        this.moderation = moderation;
    }

    /** Thrown for a call that cannot be answered; its message is the NIP-86 error. */
    static final class CallError extends RuntimeException {
        CallError(String message) {
            super(message, null, false, false);
        }
    }

    /** The response body for one request body. */
    public String call(byte[] body) {
        try {
            JsonNode request;
            try {
                request = MAPPER.readTree(body);
            } catch (Exception e) {
                throw new CallError("request is not JSON");
            }
            if (request == null || !request.isObject() || !request.path("method").isTextual()) throw new CallError("request must be {\"method\": string, \"params\": array}");
            JsonNode params = request.path("params");
            if (!params.isMissingNode() && !params.isNull() && !params.isArray()) throw new CallError("params must be an array");
            return answer(run(request.get("method").asText(), params.isArray() ? (ArrayNode) params : NODES.arrayNode()), null);
        } catch (CallError e) {
            return answer(null, e.getMessage());
        } catch (RuntimeException e) {
            return answer(null, "internal error: " + e.getMessage());
        }
    }

    public static String answer(JsonNode result, String error) {
        ObjectNode out = NODES.objectNode();
        out.set("result", result == null ? NODES.nullNode() : result);
        if (error != null) out.put("error", error);
        return out.toString();
    }

    private JsonNode run(String method, ArrayNode params) {
        switch (method) {
            case "supportedmethods" -> {
                ArrayNode names = NODES.arrayNode();
                METHODS.forEach(names::add);
                return names;
            }
            case "banpubkey" -> moderation.banPubkey(hex64(params, "pubkey"), reason(params));
            case "unbanpubkey" -> moderation.unbanPubkey(hex64(params, "pubkey"));
            case "listbannedpubkeys" -> { return list(moderation.bannedPubkeys(), "pubkey"); }
            case "allowpubkey" -> moderation.allowPubkey(hex64(params, "pubkey"), reason(params));
            case "unallowpubkey" -> moderation.unallowPubkey(hex64(params, "pubkey"));
            case "listallowedpubkeys" -> { return list(moderation.allowedPubkeys(), "pubkey"); }
            case "banevent" -> moderation.banEvent(hex64(params, "event id"), reason(params));
            case "allowevent" -> moderation.allowEvent(hex64(params, "event id"));
            case "listbannedevents" -> { return list(moderation.bannedEvents(), "id"); }
            case "listeventsneedingmoderation" -> { return NODES.arrayNode(); }
            case "allowkind" -> moderation.allowKind(kind(params));
            case "disallowkind" -> moderation.disallowKind(kind(params));
            case "listallowedkinds" -> { return allowedKinds(); }
            case "blockip" -> moderation.blockIp(ip(params), reason(params));
            case "unblockip" -> moderation.unblockIp(ip(params));
            case "listblockedips" -> { return list(moderation.blockedIps(), "ip"); }
            case "changerelayname" -> moderation.changeName(text(params, "name"));
            case "changerelaydescription" -> moderation.changeDescription(text(params, "description"));
            case "changerelayicon" -> moderation.changeIcon(text(params, "icon URL"));
            default -> throw new CallError("unsupported method: " + method);
        }
        return NODES.booleanNode(true);
    }

    private static ArrayNode list(Map<String, String> reasons, String field) {
        ArrayNode out = NODES.arrayNode();
        for (Map.Entry<String, String> e : reasons.entrySet()) {
            ObjectNode item = out.addObject();
            item.put(field, e.getKey());
            if (!e.getValue().isEmpty()) item.put("reason", e.getValue());
        }
        return out;
    }

    /** The kinds an allow list admits (empty when every kind not disallowed is accepted), without the disallowed ones. */
    private ArrayNode allowedKinds() {
        TreeSet<Integer> kinds = new TreeSet<>();
        KindRanges allowed = moderation.access().allowedKinds();
        for (KindRanges.Range r : allowed.ranges()) {
            if ((long) r.to() - r.from() >= MAX_LISTED_RANGE) continue;
            for (int k = r.from(); k <= r.to(); k++) kinds.add(k);
        }
        kinds.removeAll(moderation.access().deniedKinds());
        ArrayNode out = NODES.arrayNode();
        kinds.forEach(out::add);
        return out;
    }

    private static String text(ArrayNode params, String what) {
        JsonNode first = params.path(0);
        if (!first.isTextual()) throw new CallError("params[0] must be the " + what + " as a string");
        return first.asText();
    }

    private static String hex64(ArrayNode params, String what) {
        String value = text(params, what);
        if (!Hex.isLowerHex(value, 32)) throw new CallError("params[0] must be the " + what + " as 64 lowercase hex characters");
        return value;
    }

    private static String reason(ArrayNode params) {
        JsonNode second = params.path(1);
        return second.isTextual() ? second.asText() : "";
    }

    private static int kind(ArrayNode params) {
        JsonNode first = params.path(0);
        if (!first.canConvertToInt() || !first.isIntegralNumber() || first.asInt() < 0 || first.asInt() > 65535) {
            throw new CallError("params[0] must be a kind number (0-65535)");
        }
        return first.asInt();
    }

    private static String ip(ArrayNode params) {
        String ip = RelayModeration.normalizeIp(text(params, "IP address"));
        if (ip == null) throw new CallError("params[0] must be an IP address");
        return ip;
    }
}
