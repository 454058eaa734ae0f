package dev.nexus.core.nip77;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.function.UnaryOperator;

/**
 * Drives a whole reconciliation between an initiator and a responder (given as a function from
 * message to reply, so the responder can be another process) and records what crossed the wire.
 */
final class Session {
    final List<ByteBuffer> have = new ArrayList<>();
    final List<ByteBuffer> need = new ArrayList<>();
    final List<byte[]> upMessages = new ArrayList<>();
    final List<byte[]> downMessages = new ArrayList<>();
    int roundTrips;
    long bytesUp;
    long bytesDown;

    static Session run(Negentropy initiator, UnaryOperator<byte[]> responder, int maxRoundTrips) {
        Session session = new Session();
        byte[] message = initiator.initiate();
        while (message != null) {
            if (session.roundTrips == maxRoundTrips) throw new AssertionError("no convergence after " + maxRoundTrips + " round trips");
            session.upMessages.add(message);
            session.bytesUp += message.length;
            byte[] reply = responder.apply(message);
            session.downMessages.add(reply);
            session.bytesDown += reply.length;
            session.roundTrips++;
            Negentropy.Reconciliation r = initiator.reconcile(reply);
            r.have().forEach(id -> session.have.add(ByteBuffer.wrap(id)));
            r.need().forEach(id -> session.need.add(ByteBuffer.wrap(id)));
            message = r.nextMessage();
        }
        return session;
    }

    static Session run(Negentropy initiator, Negentropy responder, int maxRoundTrips) {
        return run(initiator, responder::respond, maxRoundTrips);
    }
}
