package dev.nexus.core;

/** NIP-01 kind classes, plus the NIP-90/NIP-89 marketplace ranges Nexus treats specially. */
public final class Kinds {
    public static final int METADATA = 0;
    public static final int CONTACTS = 3;
    public static final int DELETION = 5;
    public static final int JOB_FEEDBACK = 7000;
    public static final int AUTH = 22242;
    public static final int HANDLER_RECOMMENDATION = 31989;
    public static final int HANDLER_INFORMATION = 31990;

    private Kinds() {}

    public static boolean isValid(long kind) {
        return kind >= 0 && kind <= 65535;
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

    public static boolean isJobRequest(int kind) {
        return kind >= 5000 && kind <= 5999;
    }

    public static boolean isJobResult(int kind) {
        return kind >= 6000 && kind <= 6999;
    }

    /** Job requests, results and feedback: the traffic that gets the priority lane. */
    public static boolean isJobTraffic(int kind) {
        return (kind >= 5000 && kind <= 6999) || kind == JOB_FEEDBACK;
    }
}
