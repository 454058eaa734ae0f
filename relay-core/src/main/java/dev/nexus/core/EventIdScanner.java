package dev.nexus.core;

/**
 * Finds the {@code id} of the event in an {@code ["EVENT", {...}]} or {@code ["AUTH", {...}]}
 * frame that the real parser refused, so that the refusal can still be an OK correlated with it.
 * A byte scanner rather than a JSON parser on purpose: it must get past whatever made the parser
 * give up (nesting deeper than any limit, numbers of any size, values of the wrong type, garbage
 * after the id), and it never allocates more than the id itself. It reads only the event object's
 * own top-level {@code "id"} key, and only a 64-character lowercase hex value.
 */
public final class EventIdScanner {
    private EventIdScanner() {}

    /** The id of the frame's event when the frame is an EVENT or AUTH message and the id reads as 64 lowercase hex; else null. */
    public static String scan(byte[] utf8, int offset, int length) {
        int end = offset + length;
        int depth = 0;
        int stringsAtDepth1 = 0;
        boolean verbOk = false;
        int i = offset;
        while (i < end) {
            byte b = utf8[i];
            if (b == '"') {
                int close = endOfString(utf8, i + 1, end);
                if (close < 0) return null;
                if (depth == 1 && stringsAtDepth1++ == 0) {
                    verbOk = equalsAscii(utf8, i + 1, close, "EVENT") || equalsAscii(utf8, i + 1, close, "AUTH");
                    if (!verbOk) return null;
                } else if (depth == 2 && verbOk && equalsAscii(utf8, i + 1, close, "id")) {
                    int j = skipWhitespace(utf8, close + 1, end);
                    if (j < end && utf8[j] == ':') {
                        j = skipWhitespace(utf8, j + 1, end);
                        if (j < end && utf8[j] == '"') {
                            int valueEnd = endOfString(utf8, j + 1, end);
                            if (valueEnd == j + 65 && isLowerHex(utf8, j + 1, valueEnd)) {
                                return new String(utf8, j + 1, 64, java.nio.charset.StandardCharsets.US_ASCII);
                            }
                        }
                        return null;
                    }
                }
                i = close + 1;
                continue;
            }
            if (b == '[' || b == '{') {
                depth++;
                // The event must be the object right inside the message array.
                if (depth == 2 && b != '{') return null;
            } else if (b == ']' || b == '}') {
                depth--;
                if (depth <= 1) return null; // the event object (or the message) ended without an id

            }
            i++;
        }
        return null;
    }

    /** Index of the closing quote of a string whose content starts at {@code from}, or -1. */
    private static int endOfString(byte[] b, int from, int end) {
        for (int i = from; i < end; i++) {
            if (b[i] == '\\') i++;
            else if (b[i] == '"') return i;
        }
        return -1;
    }

    private static int skipWhitespace(byte[] b, int i, int end) {
        while (i < end && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r')) i++;
        return i;
    }

    private static boolean equalsAscii(byte[] b, int from, int to, String s) {
        if (to - from != s.length()) return false;
        for (int i = 0; i < s.length(); i++) if (b[from + i] != s.charAt(i)) return false;
        return true;
    }

    private static boolean isLowerHex(byte[] b, int from, int to) {
        for (int i = from; i < to; i++) {
            byte c = b[i];
            if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
        }
        return true;
    }
}
