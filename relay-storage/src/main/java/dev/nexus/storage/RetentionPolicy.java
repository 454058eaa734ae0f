package dev.nexus.storage;

import dev.nexus.core.Event;
import dev.nexus.core.Kinds;

/**
 * Nexus's retention for marketplace kinds: job requests and feedback live 24 h, results 7 days
 * (by default), counted from created_at. A NIP-40 expiration tag can only shorten that.
 */
public record RetentionPolicy(long jobRequestSeconds, long jobResultSeconds, long jobFeedbackSeconds) {
    public static final RetentionPolicy DEFAULT = new RetentionPolicy(86400, 7 * 86400, 86400);

    /** The unix time after which the event is no longer served, or null if it is kept until replaced or deleted. */
    public Long expiresAt(Event e) {
        Long byKind = null;
        int k = e.kind();
        if (Kinds.isJobRequest(k)) byKind = e.createdAt() + jobRequestSeconds;
        else if (Kinds.isJobResult(k)) byKind = e.createdAt() + jobResultSeconds;
        else if (k == Kinds.JOB_FEEDBACK) byKind = e.createdAt() + jobFeedbackSeconds;
        Long byTag = e.expiration();
        if (byKind == null) return byTag;
        if (byTag == null) return byKind;
        return Math.min(byKind, byTag);
    }
}
