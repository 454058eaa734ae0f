package dev.nexus.core.nip77;

/** A negentropy message that cannot be processed: malformed, truncated, or of an unsupported version. */
public final class NegentropyException extends RuntimeException {
    public NegentropyException(String message) {
        super(message);
    }
}
