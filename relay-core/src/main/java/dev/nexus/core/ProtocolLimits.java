package dev.nexus.core;

/**
 * The message-level limits the parser enforces; the server builds one from its config.
 * Kept in core so parsing can reject oversize input before building objects from it.
 */
public record ProtocolLimits(int maxEventTags, int maxContentLength, int maxFilters, int maxSubscriptionIdLength,
                             int maxFilterValues) {
    public static final ProtocolLimits DEFAULT = new ProtocolLimits(2000, 102400, 10, 64, 1000);
}
