package dev.nexus.core;

/**
 * NIP-01 kind classes and the kinds Nexus itself names. Which kinds are marketplace (job) traffic is
 * the operator's choice and lives in {@link MarketplaceKinds}, not here.
 */
public final class Kinds {
    public static final int METADATA = 0;
    public static final int CONTACTS = 3;
    public static final int DELETION = 5;
    public static final int HEARTBEAT = 1999;
    public static final int GIFT_WRAP = 1059;
    public static final int AUTH = 22242;
    public static final int CONTEXTVM_MESSAGE = 25910;
    public static final int HANDLER_RECOMMENDATION = 31989;
    public static final int HANDLER_INFORMATION = 31990;

    private Kinds() {}

    /** The largest kind accepted: kinds are non-negative 32-bit integers (the DVM draft uses 68001). */
    public static final int MAX = Integer.MAX_VALUE;

    public static boolean isValid(long kind) {
        return kind >= 0 && kind <= MAX;
    }

    public static boolean isReplaceable(int kind) {
        return kind == METADATA || kind == CONTACTS || (kind >= 10000 && kind < 20000);
    }

    public static boolean isEphemeral(int kind) {
        return kind >= 20000 && kind < 30000;
    }

    public static boolean isAddressable(int kind) {
        return kind >= 30000 && kind < 40000;
    }

    public static boolean isRegular(int kind) {
        return !isReplaceable(kind) && !isEphemeral(kind) && !isAddressable(kind);
    }

}
