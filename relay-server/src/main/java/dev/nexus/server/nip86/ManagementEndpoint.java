package dev.nexus.server.nip86;

import dev.nexus.config.NexusConfig;
import dev.nexus.core.SignatureVerifier;
import dev.nexus.server.nip42.Nip42Auth;
import dev.nexus.server.policy.AccessControl;
import java.util.HashSet;
import java.util.Set;
import java.util.function.LongSupplier;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import io.netty.util.concurrent.DefaultThreadFactory;

/**
 * The HTTP side of NIP-86: a POST on the relay's URL with {@code Content-Type:
 * application/nostr+json+rpc}, authorized by NIP-98, answered on a thread of its own (calls wait
 * for the store's commit, which must never stall an I/O thread).
 */
public final class ManagementEndpoint implements AutoCloseable {
    public static final String CONTENT_TYPE = "application/nostr+json+rpc";

    /** What to send back: an HTTP status and a JSON body. */
    public record Response(int status, String json) {}

    private final Nip98Authorization authorization;
    private final ManagementApi api;
    /**
     * Calls waiting for the management thread. Anyone may POST, and an unauthorized call still costs
     * a signature check, so the queue is bounded: a client pipelining forged calls (each answered
     * later, so the outbound bound never stops reading from it) gets 503 past it, not a growing heap.
     */
    static final int MAX_QUEUED_CALLS = 16;

    private final ThreadPoolExecutor worker = new ThreadPoolExecutor(1, 1, 0, TimeUnit.MILLISECONDS,
            new ArrayBlockingQueue<>(MAX_QUEUED_CALLS), new DefaultThreadFactory("nexus-admin", true));

    public ManagementEndpoint(Nip98Authorization authorization, ManagementApi api) {
        this.authorization = authorization;
        this.api = api;
    }

    /**
     * The relay's endpoint: callable by {@code [server] pubkey} and {@code [management] admin_pubkeys};
     * a NIP-98 {@code u} tag must name this relay as NIP-42's AUTH events must (URL, relay names, bound port).
     */
    public static ManagementEndpoint forRelay(NexusConfig config, int boundPort, SignatureVerifier verifier, AccessControl access,
                                              RelayModeration moderation, LongSupplier clock) {
        Nip42Auth relayNames = new Nip42Auth(config, verifier, access);
        relayNames.useBoundPort(boundPort);
        Set<String> operators = new HashSet<>(config.management().adminPubkeys());
        if (!config.server().pubkey().isEmpty()) operators.add(config.server().pubkey());
        return new ManagementEndpoint(new Nip98Authorization(operators, relayNames::namesThisRelay, verifier, clock), new ManagementApi(moderation));
    }

    public static boolean isManagementCall(String contentType) {
        return contentType != null && contentType.toLowerCase(java.util.Locale.ROOT).startsWith(CONTENT_TYPE);
    }

    /** Answers one POST (its body already bounded by the HTTP aggregator) on the management thread. */
    public void handle(String authorizationHeader, byte[] body, Consumer<Response> reply) {
        try {
            worker.execute(() -> {
                Response response;
                try {
                    response = respond(authorizationHeader, body);
                } catch (RuntimeException e) {
                    response = new Response(500, ManagementApi.answer(null, "internal error: " + e.getMessage()));
                }
                reply.accept(response);
            });
        } catch (RejectedExecutionException busy) {
            reply.accept(new Response(503, ManagementApi.answer(null, "rate-limited: too many management calls waiting; try again")));
        }
    }

    Response respond(String authorizationHeader, byte[] body) {
        String refusal = authorization.refusal(authorizationHeader, "POST", body);
        if (refusal != null) return new Response(401, ManagementApi.answer(null, "unauthorized: " + refusal));
        return new Response(200, api.call(body));
    }

    @Override
    public void close() {
        worker.shutdownNow();
    }
}
