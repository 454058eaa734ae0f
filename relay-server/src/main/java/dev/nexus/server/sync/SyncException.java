package dev.nexus.server.sync;

/** A sync that could not be carried out: peer unreachable, refused, or broke the protocol. */
public final class SyncException extends Exception {
    public SyncException(String message) {
        super(message);
    }

    public SyncException(String message, Throwable cause) {
        super(message, cause);
    }
}
