package dev.nexus.core;

/** A frame that is not a well-formed client message at all: answered with NOTICE. */
public final class MalformedMessageException extends Exception {
    public MalformedMessageException(String reason) {
        super(reason, null, false, false);
    }
}
