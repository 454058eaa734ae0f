package dev.nexus.core.nip77;

import java.util.Arrays;

/** A growable byte buffer: unsynchronised, and able to append another writer without copying it first. */
final class ByteWriter {
    private byte[] buf;
    private int length;

    ByteWriter() {
        this(64);
    }

    ByteWriter(int capacity) {
        buf = new byte[Math.max(16, capacity)];
    }

    int length() {
        return length;
    }

    void write(int b) {
        ensure(1);
        buf[length++] = (byte) b;
    }

    void write(byte[] bytes, int offset, int count) {
        ensure(count);
        System.arraycopy(bytes, offset, buf, length, count);
        length += count;
    }

    void write(byte[] bytes) {
        write(bytes, 0, bytes.length);
    }

    void write(ByteWriter other) {
        write(other.buf, 0, other.length);
    }

    void writeVarint(long value) {
        Varint.write(value, this);
    }

    void clear() {
        length = 0;
    }

    byte[] toByteArray() {
        return Arrays.copyOf(buf, length);
    }

    private void ensure(int extra) {
        if (length + extra > buf.length) {
            buf = Arrays.copyOf(buf, Math.max(buf.length * 2, length + extra));
        }
    }
}
