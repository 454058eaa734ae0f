package dev.nexus.core.nip77;

/**
 * Negentropy's varint: unsigned base-128 digits, most significant first, the high bit set on every
 * byte but the last, as few digits as possible. Values are unsigned 64-bit (a Java {@code long}
 * read as unsigned).
 */
public final class Varint {
    private Varint() {}

    public static byte[] encode(long value) {
        ByteWriter out = new ByteWriter(10);
        write(value, out);
        return out.toByteArray();
    }

    /** Decodes one varint that must fill {@code bytes} exactly. */
    public static long decode(byte[] bytes) {
        MessageReader in = new MessageReader(bytes);
        long value = in.readVarint();
        if (in.hasRemaining()) throw new NegentropyException("trailing bytes after varint");
        return value;
    }

    static void write(long value, ByteWriter out) {
        int digits = 1;
        for (long rest = value >>> 7; rest != 0; rest >>>= 7) digits++;
        for (int shift = 7 * (digits - 1); shift > 0; shift -= 7) {
            out.write((int) ((value >>> shift) & 0x7f) | 0x80);
        }
        out.write((int) (value & 0x7f));
    }
}
