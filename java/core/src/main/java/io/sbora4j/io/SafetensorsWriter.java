package io.sbora4j.io;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sbora4j.tensor.DType;
import io.sbora4j.tensor.Device;
import io.sbora4j.tensor.Tensor;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Writes tensors to a {@code .safetensors} file, replacing the target atomically.
 *
 * <p>The header lists {@code __metadata__} first, then the tensors in the map's iteration order, and is padded with
 * spaces to a multiple of 8 bytes, as the reference writer does. The data is laid out widest element type first
 * (stable otherwise), so every tensor starts aligned to its element size and readers can map it without copying.
 *
 * <p>Hugging Face transformers refuses a file whose metadata is present but lacks {@code "format": "pt"}; pass that
 * entry (or no metadata at all) for files meant for it.
 */
public final class SafetensorsWriter {

    /** How f32 tensors are stored; i32 tensors are always stored as I32. */
    public enum FloatFormat {
        /** As is. */
        F32(4, "F32"),
        /** Rounded to nearest even bfloat16: half the size, 8 significant bits. */
        BF16(2, "BF16");

        private final int bytes;
        private final String fileName;

        FloatFormat(int bytes, String fileName) {
            this.bytes = bytes;
            this.fileName = fileName;
        }
    }

    private static final int CHUNK_BYTES = 1 << 20;

    private SafetensorsWriter() {}

    /** Writes {@code tensors} (f32 or i32, host) as stored, with optional {@code metadata} (null for none). */
    public static void write(Path file, Map<String, Tensor> tensors, Map<String, String> metadata) throws IOException {
        write(file, tensors, metadata, FloatFormat.F32);
    }

    /**
     * Writes {@code tensors} with f32 ones stored as {@code floats}, and optional {@code metadata} (null for none).
     *
     * @throws IllegalArgumentException for a reserved or null name or an unsupported type (device tensors are copied
     *                                  to the host first)
     */
    public static void write(Path file, Map<String, Tensor> tensors, Map<String, String> metadata, FloatFormat floats)
            throws IOException {
        Objects.requireNonNull(floats, "floats");
        List<Map.Entry<String, Tensor>> entries = new ArrayList<>();
        for (Map.Entry<String, Tensor> e : tensors.entrySet()) {
            Tensor t = e.getValue();
            if (t == null) {
                throw new IllegalArgumentException("tensor '" + e.getKey() + "' is null");
            }
            // tensors on a device are copied to the host first (the arena of a copy is the garbage collector's)
            entries.add(Map.entry(e.getKey(), !t.device().isHost() ? t.copyInto(Arena.ofAuto(), Device.CPU) : t));
        }
        entries.forEach(e -> check(e.getKey(), e.getValue()));
        if (metadata != null) {
            metadata.forEach((k, v) -> {
                if (k == null || v == null) {
                    throw new IllegalArgumentException("metadata keys and values must not be null");
                }
            });
        }
        List<Map.Entry<String, Tensor>> layout = new ArrayList<>(entries);
        layout.sort(Comparator.comparingInt((Map.Entry<String, Tensor> e) -> -storedBytes(e.getValue(), floats)));
        Map<String, long[]> offsets = new LinkedHashMap<>();
        long offset = 0;
        for (Map.Entry<String, Tensor> e : layout) {
            long n = e.getValue().numel() * storedBytes(e.getValue(), floats);
            offsets.put(e.getKey(), new long[] {offset, offset + n});
            offset += n;
        }
        byte[] header = header(entries, offsets, metadata, floats);
        AtomicFiles.write(file, ch -> {
            ByteBuffer len = ByteBuffer.allocate(8)
                    .order(ByteOrder.LITTLE_ENDIAN)
                    .putLong(header.length)
                    .flip();
            AtomicFiles.writeFully(ch, len);
            AtomicFiles.writeFully(ch, ByteBuffer.wrap(header));
            try (Arena scratch = Arena.ofConfined()) {
                MemorySegment chunk = scratch.allocate(CHUNK_BYTES, 8);
                for (Map.Entry<String, Tensor> e : layout) {
                    writeData(ch, chunk, e.getValue(), floats);
                }
            }
        });
    }

    /** Bytes {@code t} takes in a file written with {@code floats}. */
    static long storedSize(Tensor t, FloatFormat floats) {
        return t.numel() * storedBytes(t, floats);
    }

    private static int storedBytes(Tensor t, FloatFormat floats) {
        return t.dtype() == DType.F32 ? floats.bytes : t.dtype().bytes();
    }

    private static void check(String name, Tensor t) {
        if (name == null || name.equals(SafetensorsHeader.METADATA_KEY)) {
            throw new IllegalArgumentException("invalid tensor name: " + name);
        }
        Objects.requireNonNull(t, () -> "tensor '" + name + "' is null");
        if (t.dtype() != DType.F32 && t.dtype() != DType.BF16 && t.dtype() != DType.I32) {
            throw new IllegalArgumentException("tensor '" + name + "' has unsupported type " + t.dtype());
        }
    }

    private static byte[] header(
            List<Map.Entry<String, Tensor>> entries,
            Map<String, long[]> offsets,
            Map<String, String> metadata,
            FloatFormat floats)
            throws IOException {
        ObjectNode root = StrictJson.COMPACT.createObjectNode();
        if (metadata != null && !metadata.isEmpty()) {
            ObjectNode m = root.putObject(SafetensorsHeader.METADATA_KEY);
            metadata.forEach(m::put);
        }
        for (Map.Entry<String, Tensor> e : entries) {
            Tensor t = e.getValue();
            ObjectNode info = root.putObject(e.getKey());
            info.put(
                    "dtype",
                    switch (t.dtype()) {
                        case F32 -> floats.fileName;
                        case BF16 -> "BF16"; // a bf16 tensor is stored as it is, whatever the file's float format
                        default -> "I32";
                    });
            ArrayNode shape = info.putArray("shape");
            for (int d : t.shape().dims()) {
                shape.add(d);
            }
            long[] range = offsets.get(e.getKey());
            info.putArray("data_offsets").add(range[0]).add(range[1]);
        }
        byte[] json = StrictJson.COMPACT.writeValueAsString(root).getBytes(StandardCharsets.UTF_8);
        int padded = (json.length + 7) / 8 * 8; // data starts 8-aligned: 8 + padded
        byte[] out = Arrays.copyOf(json, padded);
        Arrays.fill(out, json.length, padded, (byte) ' ');
        return out;
    }

    /** Streams one tensor's elements, little-endian, through {@code chunk}. */
    private static void writeData(FileChannel ch, MemorySegment chunk, Tensor t, FloatFormat floats)
            throws IOException {
        MemorySegment src = t.data();
        long n = t.numel();
        boolean bf16 = t.dtype() == DType.F32 && floats == FloatFormat.BF16;
        int width = bf16 || t.dtype() == DType.BF16 ? 2 : 4;
        long perChunk = chunk.byteSize() / width;
        for (long start = 0; start < n; start += perChunk) {
            long k = Math.min(perChunk, n - start);
            if (bf16) {
                for (long i = 0; i < k; i++) {
                    chunk.setAtIndex(
                            ElementCodecs.LE_SHORT,
                            i,
                            ElementCodecs.floatToBf16(src.getAtIndex(ValueLayout.JAVA_FLOAT, start + i)));
                }
            } else if (t.dtype() == DType.BF16) {
                MemorySegment.copy(src, ValueLayout.JAVA_SHORT, start * 2, chunk, ElementCodecs.LE_SHORT, 0, k);
            } else if (t.dtype() == DType.F32) {
                MemorySegment.copy(src, ValueLayout.JAVA_FLOAT, start * 4, chunk, ElementCodecs.LE_FLOAT, 0, k);
            } else {
                MemorySegment.copy(src, ValueLayout.JAVA_INT, start * 4, chunk, ElementCodecs.LE_INT, 0, k);
            }
            AtomicFiles.writeFully(ch, chunk.asSlice(0, k * width).asByteBuffer());
        }
    }
}
