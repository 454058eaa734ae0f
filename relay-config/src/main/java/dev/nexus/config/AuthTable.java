package dev.nexus.config;

import com.fasterxml.jackson.databind.JsonNode;
import dev.nexus.config.NexusConfig.Auth;
import dev.nexus.config.NexusConfig.AuthMode;
import dev.nexus.core.KindRanges;
import java.util.List;
import java.util.Set;

/** Reads and checks {@code [auth]}; unknown keys are errors. */
final class AuthTable {
    private AuthTable() {}

    static Auth parse(Section s) throws ConfigException {
        JsonNode required = s.raw("required");
        AuthMode mode;
        if (required == null || (required.isBoolean() && required.asBoolean())) mode = AuthMode.ALWAYS;
        else if (required.isBoolean()) mode = AuthMode.NEVER;
        else if (required.isTextual() && required.asText().equals("writes")) mode = AuthMode.WRITES;
        else throw new ConfigException(s.key("required") + " must be true, false or \"writes\"");
        Set<String> allowed = HexKeys.set(s, "allowed_pubkeys");
        Set<String> denied = HexKeys.set(s, "denied_pubkeys");
        KindRanges open = s.kindRanges("open_kinds", KindRanges.NONE);
        boolean coversAuthors = s.bool("allow_list_covers_authors", true);
        int inFlight = s.integer("max_auths_in_flight", 2, 1, 100);
        int perConnection = s.integer("max_auths_per_connection", 20, 1, 10000);
        int failed = s.integer("max_failed_auths", 3, 1, 10000);
        Set<Integer> restricted = Set.copyOf(s.integers("restricted_kinds", List.of(4, 1059), 0, 65535));
        boolean encryptedJobs = s.bool("restrict_encrypted_jobs", true);
        s.rejectUnknownKeys();
        return new Auth(mode, allowed, denied, open, coversAuthors, inFlight, perConnection, failed, restricted, encryptedJobs);
    }
}
