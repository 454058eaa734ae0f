package dev.nexus.storage;

/** A storage failure surfaced to the relay, which answers the client with an {@code error:} message. */
public final class StoreException extends RuntimeException {
    /** Why a store call failed: the relay answers a client's query differently for each. */
    public enum Reason {
        /** Something went wrong in the store (answered {@code error:} and logged). */
        FAILED,
        /** The query ran past the per-query time budget and was interrupted ({@code error:}, not a relay fault). */
        TIMEOUT,
        /** The filters bind more values than the store can take in one statement ({@code invalid:}). */
        TOO_MANY_VALUES
    }

    private final Reason reason;

    public StoreException(String message, Throwable cause) {
        this(Reason.FAILED, message, cause);
    }

    public StoreException(Reason reason, String message, Throwable cause) {
        super(message, cause);
        this.reason = reason;
    }

    public Reason reason() {
        return reason;
    }
}
