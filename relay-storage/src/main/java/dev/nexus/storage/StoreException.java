package dev.nexus.storage;

/** A storage failure surfaced to the relay, which answers the client with an {@code error:} message. */
public final class StoreException extends RuntimeException {
    public StoreException(String message, Throwable cause) {
        super(message, cause);
    }
}
