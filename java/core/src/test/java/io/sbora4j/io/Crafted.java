package io.sbora4j.io;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

/** Hand-made safetensors bytes for tests: any header text, any length field, any data. */
final class Crafted {

    private Crafted() {}

    /** The header padded with spaces to a multiple of 8, its true length, then {@code data}. */
    static Path file(Path dir, String name, String header, byte[] data) throws IOException {
        byte[] h = header.getBytes(StandardCharsets.UTF_8);
        int padded = (h.length + 7) / 8 * 8;
        byte[] hp = new byte[padded];
        System.arraycopy(h, 0, hp, 0, h.length);
        Arrays.fill(hp, h.length, padded, (byte) ' ');
        return raw(dir, name, padded, hp, data);
    }

    /** A header text over {@code dataBytes} zero bytes. */
    static Path file(Path dir, String name, String header, int dataBytes) throws IOException {
        return file(dir, name, header, new byte[dataBytes]);
    }

    /** Exactly these bytes: the length field {@code declared}, then {@code header}, then {@code data}. */
    static Path raw(Path dir, String name, long declared, byte[] header, byte[] data) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.writeBytes(ByteBuffer.allocate(8)
                .order(ByteOrder.LITTLE_ENDIAN)
                .putLong(declared)
                .array());
        out.writeBytes(header);
        out.writeBytes(data);
        Path p = dir.resolve(name);
        Files.write(p, out.toByteArray());
        return p;
    }

    /** Little-endian bytes of 16-bit values. */
    static byte[] shorts(int... values) {
        ByteBuffer b = ByteBuffer.allocate(values.length * 2).order(ByteOrder.LITTLE_ENDIAN);
        for (int v : values) {
            b.putShort((short) v);
        }
        return b.array();
    }

    /** Little-endian bytes of 64-bit values. */
    static byte[] longs(long... values) {
        ByteBuffer b = ByteBuffer.allocate(values.length * 8).order(ByteOrder.LITTLE_ENDIAN);
        for (long v : values) {
            b.putLong(v);
        }
        return b.array();
    }

    /** Little-endian bytes of 32-bit values. */
    static byte[] ints(int... values) {
        ByteBuffer b = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        for (int v : values) {
            b.putInt(v);
        }
        return b.array();
    }

    /** Little-endian bytes of f32 values. */
    static byte[] floats(float... values) {
        ByteBuffer b = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        for (float v : values) {
            b.putFloat(v);
        }
        return b.array();
    }

    /** The concatenation of byte arrays. */
    static byte[] concat(byte[]... parts) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (byte[] p : parts) {
            out.writeBytes(p);
        }
        return out.toByteArray();
    }
}
