package dev.nexus.server;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * What the kernel says about the mount a directory is on ({@code /proc/self/mountinfo}): whether
 * it maps code ({@code noexec}). Asked before a library loader is pointed somewhere, because a
 * loader that fails there may leave its copy behind.
 */
final class MountOptions {
    private static final Path MOUNTINFO = Path.of("/proc/self/mountinfo");

    private MountOptions() {}

    /** Whether {@code dir} is on a {@code noexec} mount; false when that cannot be told. */
    static boolean noexec(Path dir) {
        try {
            return noexec(dir.toRealPath(), Files.readAllLines(MOUNTINFO));
        } catch (IOException | RuntimeException cannotTell) {
            return false;
        }
    }

    /**
     * From mountinfo's lines: the mount whose point is the longest prefix of {@code realDir} (the
     * last listed when several share it: a later mount covers an earlier one), and whether its
     * per-mount options hold {@code noexec}.
     */
    static boolean noexec(Path realDir, List<String> mountinfo) {
        int longest = -1;
        boolean noexec = false;
        for (String line : mountinfo) {
            String[] fields = line.split(" ");
            if (fields.length < 6) continue;
            Path point = Path.of(unescape(fields[4]));
            if (!realDir.startsWith(point)) continue;
            int depth = point.getNameCount();
            if (depth >= longest) {
                longest = depth;
                noexec = List.of(fields[5].split(",")).contains("noexec");
            }
        }
        return noexec;
    }

    /** mountinfo writes a space, tab, newline and backslash in a path as octal escapes ({@code \040}). */
    private static String unescape(String field) {
        if (field.indexOf('\\') < 0) return field;
        StringBuilder out = new StringBuilder(field.length());
        for (int i = 0; i < field.length(); i++) {
            char c = field.charAt(i);
            if (c == '\\' && isOctal(field, i + 1)) {
                out.append((char) Integer.parseInt(field.substring(i + 1, i + 4), 8));
                i += 3;
            } else {
                out.append(c);
            }
        }
        return out.toString();
    }

    private static boolean isOctal(String s, int from) {
        if (from + 3 > s.length()) return false;
        for (int i = from; i < from + 3; i++) {
            if (s.charAt(i) < '0' || s.charAt(i) > '7') return false;
        }
        return true;
    }
}
