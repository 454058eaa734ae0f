package dev.nexus.core;

/** Lowercase hex, the only spelling NIP-01 allows for ids, pubkeys and signatures. */
public final class Hex {
    private static final char[] DIGITS = "0123456789abcdef".toCharArray();

    private Hex() {}

    public static String encode(byte[] bytes) {
        char[] out = new char[bytes.length * 2];
        for (int i = 0; i < bytes.length; i++) {
            out[2 * i] = DIGITS[(bytes[i] >> 4) & 0xf];
            out[2 * i + 1] = DIGITS[bytes[i] & 0xf];
        }
        return new String(out);
    }

    /** True when {@code s} is exactly {@code bytes * 2} lowercase hex digits. */
    public static boolean isLowerHex(String s, int bytes) {
        if (s == null || s.length() != bytes * 2) return false;
        for (int i = 0; i < s.length(); i++) {
            if (nibble(s.charAt(i)) < 0) return false;
        }
        return true;
    }

    /** Decodes lowercase hex; throws {@link IllegalArgumentException} on anything else. */
    public static byte[] decode(String s) {
        if ((s.length() & 1) != 0) throw new IllegalArgumentException("odd-length hex");
        byte[] out = new byte[s.length() / 2];
        for (int i = 0; i < out.length; i++) {
            int hi = nibble(s.charAt(2 * i)), lo = nibble(s.charAt(2 * i + 1));
            if ((hi | lo) < 0) throw new IllegalArgumentException("not lowercase hex");
            out[i] = (byte) ((hi << 4) | lo);
        }
        return out;
    }

    /**
     * Every id, pubkey and signature is checked on parsing and decoded for the verifier: 256 digits per
     * event. A table lookup is one comparison per digit where the range tests took up to four (the relay
     * runs C1-compiled code, which does not fold them).
     */
    private static final byte[] NIBBLES = new byte[128];

    static {
        java.util.Arrays.fill(NIBBLES, (byte) -1);
        for (int c = '0'; c <= '9'; c++) NIBBLES[c] = (byte) (c - '0');
        for (int c = 'a'; c <= 'f'; c++) NIBBLES[c] = (byte) (c - 'a' + 10);
    }

    private static int nibble(char c) {
        return c < 128 ? NIBBLES[c] : -1;
    }
}
