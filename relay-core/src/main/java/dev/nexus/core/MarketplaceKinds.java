package dev.nexus.core;

/**
 * The one place that decides what marketplace (job) traffic is, from the operator's
 * {@code [marketplace]} config: which kinds are job requests, results and feedback, and which other
 * agent-protocol kinds (ContextVM's ephemeral 25910 by default) ride with them. The verifiers' and
 * the writer's priority lanes, the jobs rate budget, the NIP-90 shape checks and the retention rules
 * all ask this object.
 */
public final class MarketplaceKinds {
    /** What a kind is to the marketplace. */
    public enum Role { JOB_REQUEST, JOB_RESULT, JOB_FEEDBACK, AGENT_MESSAGE, NONE }

    /** Today's NIP-90 ranges, the original DVM draft's 68001/68002, and ContextVM's 25910. */
    public static final MarketplaceKinds DEFAULT = new MarketplaceKinds(
            KindRanges.of("5000-5999", "68001"), KindRanges.of("6000-6999", "68002"), KindRanges.of("7000"), KindRanges.of("25910"));

    private final KindRanges jobRequests;
    private final KindRanges jobResults;
    private final KindRanges jobFeedback;
    private final KindRanges agentMessages;

    public MarketplaceKinds(KindRanges jobRequests, KindRanges jobResults, KindRanges jobFeedback, KindRanges agentMessages) {
        this.jobRequests = jobRequests;
        this.jobResults = jobResults;
        this.jobFeedback = jobFeedback;
        this.agentMessages = agentMessages;
    }

    /** A kind listed in more than one set takes the first role in this order: request, result, feedback, agent message. */
    public Role roleOf(int kind) {
        if (jobRequests.contains(kind)) return Role.JOB_REQUEST;
        if (jobResults.contains(kind)) return Role.JOB_RESULT;
        if (jobFeedback.contains(kind)) return Role.JOB_FEEDBACK;
        if (agentMessages.contains(kind)) return Role.AGENT_MESSAGE;
        return Role.NONE;
    }

    /** Job traffic gets the priority lane of the verifiers and the writer and is charged to the jobs budget. */
    public boolean isJobTraffic(int kind) {
        return roleOf(kind) != Role.NONE;
    }

    /**
     * The NIP-90 shape rules, cheap enough for the I/O thread: a result must reference its job with
     * an {@code e} tag, feedback needs {@code e} and {@code status}. Null when the event passes.
     * Job requests are not checked: marketplaces in use carry typed envelopes in content, without {@code i} tags.
     */
    public String shapeRefusal(Event e) {
        return switch (roleOf(e.kind())) {
            case JOB_RESULT -> e.firstTagValue("e") == null ? "invalid: job result (kind " + e.kind() + ") needs an e tag" : null;
            case JOB_FEEDBACK -> e.firstTagValue("e") == null || e.firstTagValue("status") == null
                    ? "invalid: job feedback (kind " + e.kind() + ") needs an e tag and a status tag" : null;
            default -> null;
        };
    }

    public KindRanges jobRequests() { return jobRequests; }
    public KindRanges jobResults() { return jobResults; }
    public KindRanges jobFeedback() { return jobFeedback; }
    public KindRanges agentMessages() { return agentMessages; }

    @Override
    public boolean equals(Object o) {
        return o instanceof MarketplaceKinds m && m.jobRequests.equals(jobRequests) && m.jobResults.equals(jobResults)
                && m.jobFeedback.equals(jobFeedback) && m.agentMessages.equals(agentMessages);
    }

    @Override
    public int hashCode() {
        return java.util.Objects.hash(jobRequests, jobResults, jobFeedback, agentMessages);
    }

    @Override
    public String toString() {
        return "jobs " + jobRequests + ", results " + jobResults + ", feedback " + jobFeedback + ", agent messages " + agentMessages;
    }
}
