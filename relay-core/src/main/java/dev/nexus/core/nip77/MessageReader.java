package dev.nexus.core.nip77;

import java.util.Arrays;

/** Reads a negentropy message front to back; every read checks that the bytes are there. */
final class MessageReader {
    private final byte[] data;
    private int position;

    MessageReader(byte[] data) {
        this.data = data;
    }

    boolean hasRemaining() {
        return position < data.length;
    }

    int remaining() {
        return data.length - position;
    }

    int readByte() {
        need(1);
        return data[position++] & 0xff;
    }

    /** An unsigned varint of at most 64 bits; longer encodings are refused rather than wrapped. */
    long readVarint() {
        long result = 0;
        for (int digits = 0; ; digits++) {
            if (digits == 10) throw new NegentropyException("varint too long");
            int b = readByte();
            if ((result >>> 57) != 0) throw new NegentropyException("varint overflows 64 bits");
            result = (result << 7) | (b & 0x7f);
            if ((b & 0x80) == 0) return result;
        }
    }

    /** A varint that counts something, refused when it exceeds {@code max}. */
    int readCount(int max, String what) {
        long n = readVarint();
        if (n < 0 || n > max) throw new NegentropyException(what + " too large: " + Long.toUnsignedString(n));
        return (int) n;
    }

    byte[] readBytes(int count) {
        need(count);
        byte[] out = Arrays.copyOfRange(data, position, position + count);
        position += count;
        return out;
    }

    /** Copies {@code count} bytes into {@code dst} at {@code offset}. */
    void readInto(byte[] dst, int offset, int count) {
        need(count);
        System.arraycopy(data, position, dst, offset, count);
        position += count;
    }

    private void need(int count) {
        if (count > data.length - position) throw new NegentropyException("message ends prematurely");
    }
}
