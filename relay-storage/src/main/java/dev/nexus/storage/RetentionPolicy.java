package dev.nexus.storage;

import dev.nexus.core.Event;
import dev.nexus.core.MarketplaceKinds;

/**
 * Nexus's retention for marketplace kinds: job requests and feedback live 24 h, results 7 days
 * (by default), counted from created_at; which kinds those are is {@link MarketplaceKinds}'s
 * decision. A NIP-40 expiration tag can only shorten that.
 */
public record RetentionPolicy(MarketplaceKinds kinds, long jobRequestSeconds, long jobResultSeconds, long jobFeedbackSeconds) {
    public static final RetentionPolicy DEFAULT = new RetentionPolicy(MarketplaceKinds.DEFAULT, 86400, 7 * 86400, 86400);

    /** The unix time after which the event is no longer served, or null if it is kept until replaced or deleted. */
    public Long expiresAt(Event e) {
        Long byKind = switch (kinds.roleOf(e.kind())) {
            case JOB_REQUEST -> e.createdAt() + jobRequestSeconds;
            case JOB_RESULT -> e.createdAt() + jobResultSeconds;
            case JOB_FEEDBACK -> e.createdAt() + jobFeedbackSeconds;
            default -> null;
        };
        Long byTag = e.expiration();
        if (byKind == null) return byTag;
        if (byTag == null) return byKind;
        return Math.min(byKind, byTag);
    }
}
