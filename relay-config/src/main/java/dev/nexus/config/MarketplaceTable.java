package dev.nexus.config;

import dev.nexus.config.NexusConfig.Marketplace;
import dev.nexus.core.MarketplaceKinds;

/** Reads and checks {@code [marketplace]}; unknown keys are errors. */
final class MarketplaceTable {
    private MarketplaceTable() {}

    static Marketplace parse(Section s) throws ConfigException {
        MarketplaceKinds d = MarketplaceKinds.DEFAULT;
        Marketplace m = new Marketplace(new MarketplaceKinds(
                s.kindRanges("job_kinds", d.jobRequests()),
                s.kindRanges("result_kinds", d.jobResults()),
                s.kindRanges("feedback_kinds", d.jobFeedback()),
                s.kindRanges("agent_kinds", d.agentMessages())));
        s.rejectUnknownKeys();
        return m;
    }
}
