package dev.nexus.config;

import java.util.List;
import java.util.Set;

/** Keys given as 64 lowercase hex characters (pubkeys). */
final class HexKeys {
    private HexKeys() {}

    static Set<String> set(Section s, String key) throws ConfigException {
        List<String> values = s.strings(key, List.of());
        for (String v : values) if (!isHex64(v)) throw new ConfigException(s.key(key) + " entries must be 64 lowercase hex characters, got \"" + v + "\"");
        return Set.copyOf(values);
    }

    static boolean isHex64(String s) {
        if (s.length() != 64) return false;
        for (int i = 0; i < 64; i++) {
            char c = s.charAt(i);
            if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
        }
        return true;
    }
}
