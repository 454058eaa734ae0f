package dev.nexus.server.policy;

/**
 * Why a policy refuses an event or a read: the NIP-01 machine-readable prefix ({@code blocked},
 * {@code restricted}, {@code invalid}, {@code auth-required}, {@code rate-limited}, ...) and the
 * human-readable rest. {@link #message()} is what goes into OK or CLOSED.
 */
public record Refusal(String prefix, String reason) {

    public String message() {
        return prefix + ": " + reason;
    }

    /** A refusal already phrased as a whole OK message ("prefix: reason"), as older helpers return them. */
    public static Refusal ofMessage(String message) {
        int colon = message.indexOf(": ");
        return colon < 0 ? new Refusal("error", message) : new Refusal(message.substring(0, colon), message.substring(colon + 2));
    }

    public static Refusal invalid(String reason) { return new Refusal("invalid", reason); }
    public static Refusal blocked(String reason) { return new Refusal("blocked", reason); }
    public static Refusal restricted(String reason) { return new Refusal("restricted", reason); }
    public static Refusal authRequired(String reason) { return new Refusal("auth-required", reason); }
    public static Refusal rateLimited(String reason) { return new Refusal("rate-limited", reason); }

    @Override
    public String toString() {
        return message();
    }
}
