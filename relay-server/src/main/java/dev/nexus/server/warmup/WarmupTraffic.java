package dev.nexus.server.warmup;

import dev.nexus.core.Event;
import dev.nexus.core.EventJson;
import dev.nexus.core.Hex;
import fr.acinq.secp256k1.Secp256k1;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.List;

/**
 * The warm-up's events and requests: what a marketplace relay sees (social notes with topics, NIP-90
 * job requests to providers, their results and feedback, NIP-89 handler announcements, profiles), so
 * that the paths compiled are the ones its clients take.
 */
final class WarmupTraffic {
    /** How much traffic: enough calls of each hot method for the JIT to compile it, little enough for about a second. */
    record Shape(int events, int keys, int subscribers, int publishers, int window, int queries, int queriers, int queriesInFlight) {}

    static final Shape STANDARD = new Shape(3000, 16, 16, 4, 64, 2000, 4, 8);
    private static final int PROVIDERS = 4;
    private static final int TOPICS = 4;

    private final List<Event> events = new ArrayList<>();
    private final List<String> jobIds = new ArrayList<>();
    private final List<String> pubkeys = new ArrayList<>();
    private final long oldest;

    private WarmupTraffic(long oldest) {
        this.oldest = oldest;
    }

    /** Signs {@code shape.events()} events by fresh keys, one a second up to {@code now}. Throws if libsecp256k1 cannot load. */
    static WarmupTraffic signed(Shape shape, long now) {
        Secp256k1 secp = Secp256k1.Companion.get();
        SecureRandom random = new SecureRandom();
        List<byte[]> secrets = new ArrayList<>();
        WarmupTraffic t = new WarmupTraffic(now - shape.events());
        for (int k = 0; k < shape.keys(); k++) {
            byte[] secret = new byte[32];
            random.nextBytes(secret);
            secrets.add(secret);
            byte[] uncompressed = secp.pubkeyCreate(secret);
            t.pubkeys.add(Hex.encode(java.util.Arrays.copyOfRange(uncompressed, 1, 33)));
        }
        for (int i = 0; i < shape.events(); i++) {
            int k = i % shape.keys();
            long createdAt = t.oldest + i;
            int kind;
            List<List<String>> tags = new ArrayList<>();
            String content;
            switch (i % 10) {
                case 6 -> {
                    kind = 5050;
                    tags.add(List.of("i", "summarize item " + i, "text"));
                    tags.add(List.of("p", t.provider(i)));
                    tags.add(List.of("bid", "1000"));
                    content = "";
                }
                case 7 -> {
                    kind = 6050;
                    String job = t.jobIds.isEmpty() ? Hex.encode(new byte[32]) : t.jobIds.get(t.jobIds.size() - 1);
                    tags.add(List.of("e", job));
                    tags.add(List.of("p", t.pubkeys.get((k + 1) % shape.keys())));
                    tags.add(List.of("amount", "1000"));
                    content = "result " + i + " " + "x".repeat(80 + i % 120);
                }
                case 8 -> {
                    kind = 7000;
                    String job = t.jobIds.isEmpty() ? Hex.encode(new byte[32]) : t.jobIds.get(t.jobIds.size() - 1);
                    tags.add(List.of("status", "processing"));
                    tags.add(List.of("e", job));
                    content = "";
                }
                case 9 -> {
                    boolean handler = (i / 10) % 2 == 0;
                    kind = handler ? 31990 : 0;
                    if (handler) {
                        tags.add(List.of("d", "handler-" + k));
                        tags.add(List.of("k", "5050"));
                    }
                    content = "{\"name\":\"agent " + k + "\",\"about\":\"warm-up\"}";
                }
                default -> {
                    kind = 1;
                    tags.add(List.of("t", topic(i)));
                    if (i % 3 == 0) tags.add(List.of("p", t.pubkeys.get((k + 3) % shape.keys())));
                    content = "note " + i + " " + "lorem ipsum dolor sit amet ".repeat(2 + i % 8);
                }
            }
            String pubkey = t.pubkeys.get(k);
            String id = EventJson.computeId(pubkey, createdAt, kind, tags, content);
            String sig = Hex.encode(secp.signSchnorr(Hex.decode(id), secrets.get(k), null));
            t.events.add(new Event(id, pubkey, createdAt, kind, tags, content, sig));
            if (kind == 5050) t.jobIds.add(id);
        }
        return t;
    }

    List<Event> events() {
        return events;
    }

    /** Subscriber {@code i}: one topic's notes, and the jobs of one provider. */
    String liveSubscription(int i) {
        return "[\"REQ\",\"live\",{\"kinds\":[1],\"#t\":[\"" + topic(i) + "\"],\"limit\":0},{\"kinds\":[5050],\"#p\":[\""
                + provider(i) + "\"],\"limit\":0}]";
    }

    /** Query {@code i}: the requests marketplace clients make, in turn (its subscription id is "q" + i). */
    String query(int i) {
        String sub = "\"q" + i + "\"";
        String filter = switch (i % 8) {
            case 0 -> "{\"authors\":[\"" + pubkeys.get(i % pubkeys.size()) + "\"],\"limit\":50}";
            case 1 -> "{\"kinds\":[5050],\"#p\":[\"" + provider(i) + "\"],\"limit\":20}";
            case 2 -> "{\"ids\":[\"" + events.get((i * 7919) % events.size()).id() + "\"]}";
            case 3 -> "{\"kinds\":[1],\"since\":" + (oldest + (i * 104729L) % Math.max(1, events.size())) + ",\"limit\":100}";
            case 4 -> "{\"kinds\":[6050,7000],\"#e\":[\"" + jobIds.get(i % jobIds.size()) + "\"]}";
            case 5 -> "{\"#t\":[\"" + topic(i) + "\"],\"limit\":50}";
            case 6 -> "{\"kinds\":[5050]}";
            default -> "{\"kinds\":[31990],\"#k\":[\"5050\"]}";
        };
        return "[\"" + (i % 8 == 6 ? "COUNT" : "REQ") + "\"," + sub + "," + filter + "]";
    }

    private String provider(int i) {
        return pubkeys.get(i % PROVIDERS);
    }

    private static String topic(int i) {
        return "warmup-" + i % TOPICS;
    }
}
