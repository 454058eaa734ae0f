package dev.nexus.config;

/** A configuration problem; the message names the offending key, e.g. {@code [limits].max_filters}. */
public final class ConfigException extends Exception {
    public ConfigException(String message) {
        super(message);
    }

    public ConfigException(String message, Throwable cause) {
        super(message, cause);
    }
}
