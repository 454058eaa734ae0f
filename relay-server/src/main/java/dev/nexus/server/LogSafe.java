package dev.nexus.server;

/**
 * Client-supplied strings in log lines are quoted, escaped and shortened, so that a subscription
 * id with a newline cannot forge a log line and a long one cannot flood the log.
 */
public final class LogSafe {
    private static final int MAX_CHARS = 80;

    private LogSafe() {}

    /**
     * Text that may carry someone else's words (a peer relay's OK or close reason inside our own
     * message): control characters escaped, so it stays one line, and cut at 300 characters.
     */
    public static String line(String text) {
        if (text == null) return "null";
        return escaped(new StringBuilder(Math.min(text.length(), 300) + 8), text, 300, false).toString();
    }

    public static String quote(String clientText) {
        if (clientText == null) return "null";
        StringBuilder sb = new StringBuilder(Math.min(clientText.length(), MAX_CHARS) + 8).append('"');
        return escaped(sb, clientText, MAX_CHARS, true).append('"').toString();
    }

    /** Appends {@code text} cut at {@code max} characters with control characters escaped (and quotes and backslashes, for a quoted string). */
    private static StringBuilder escaped(StringBuilder sb, String text, int max, boolean inQuotes) {
        int n = Math.min(text.length(), max);
        for (int i = 0; i < n; i++) {
            char c = text.charAt(i);
            if (inQuotes && (c == '"' || c == '\\')) sb.append('\\').append(c);
            else if (c < 0x20 || c == 0x7f || c == '\u2028' || c == '\u2029' || c == '\u0085') sb.append(String.format("\\u%04x", (int) c));
            else sb.append(c);
        }
        if (text.length() > max) sb.append("...");
        return sb;
    }
}
