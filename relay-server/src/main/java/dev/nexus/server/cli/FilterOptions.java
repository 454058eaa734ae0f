package dev.nexus.server.cli;

import dev.nexus.core.ClientMessage;
import dev.nexus.core.ClientMessageParser;
import dev.nexus.core.Filter;
import dev.nexus.core.ProtocolLimits;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;

/** A NIP-01 filter given as JSON, with {@code --since}/{@code --until} on top. */
final class FilterOptions {
    // Operators may list many ids or authors; the relay's per-REQ limits are for clients.
    private static final ProtocolLimits GENEROUS = new ProtocolLimits(2000, 102400, 1, 64, 1_000_000);

    @Option(names = "--filter", paramLabel = "JSON", description = "a NIP-01 filter, e.g. '{\"kinds\":[1],\"authors\":[\"<hex>\"]}'; its limit is ignored")
    String filterJson;

    @Option(names = "--since", paramLabel = "UNIX_TIME", description = "only events with created_at >= this (overrides the filter's since)")
    Long since;

    @Option(names = "--until", paramLabel = "UNIX_TIME", description = "only events with created_at <= this (overrides the filter's until)")
    Long until;

    Filter filter(CommandSpec spec) {
        Filter f = new Filter(null, null, null, null, null, null, null);
        if (filterJson != null) {
            try {
                ClientMessage m = new ClientMessageParser(GENEROUS).parse("[\"REQ\",\"cli\"," + filterJson + "]");
                f = ((ClientMessage.Subscribe) m).filters().get(0);
            } catch (Exception e) {
                throw new ParameterException(spec.commandLine(), "bad --filter: " + e.getMessage().replaceFirst("^invalid: ", ""));
            }
        }
        if (since != null && since < 0 || until != null && until < 0) {
            throw new ParameterException(spec.commandLine(), "--since and --until must be non-negative unix times");
        }
        return new Filter(f.ids(), f.authors(), f.kinds(), f.tags().isEmpty() ? null : new java.util.HashMap<>(f.tags()),
                since != null ? since : f.since(), until != null ? until : f.until(), null);
    }

    boolean isEmpty(Filter f) {
        return f.ids() == null && f.authors() == null && f.kinds() == null && f.tags().isEmpty() && f.since() == null && f.until() == null;
    }
}
