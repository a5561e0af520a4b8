package io.sbora4j.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sbora4j.io.SafetensorsWriter.FloatFormat;
import io.sbora4j.tensor.DType;
import io.sbora4j.tensor.Device;
import io.sbora4j.tensor.Tensor;
import io.sbora4j.testing.UnusableDevice;
import java.lang.foreign.Arena;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Reading what the writer wrote, reading what the reference writer writes, and what the loaded tensors are. */
class SafetensorsFileTest {

    @TempDir
    Path dir;

    private static Map<String, Tensor> sample(Arena a) {
        Map<String, Tensor> m = new LinkedHashMap<>();
        m.put("w", Tensor.of(a, Device.CPU, new float[] {1, -2.5f, 3, 0, Float.MIN_VALUE, -0f}, 2, 3));
        m.put("idx", Tensor.ofInts(a, Device.CPU, new int[] {7, -1, Integer.MAX_VALUE, Integer.MIN_VALUE}, 4));
        m.put("scalar", Tensor.of(a, Device.CPU, new float[] {42}));
        m.put("empty", Tensor.zeros(a, Device.CPU, 0, 5));
        return m;
    }

    @Test
    void roundTripsF32AndI32WithMetadata() throws Exception {
        Path p = dir.resolve("m.safetensors");
        Map<String, String> meta = new LinkedHashMap<>();
        meta.put("format", "pt");
        meta.put("note", "ünïcödé ✓");
        try (Arena a = Arena.ofConfined()) {
            Map<String, Tensor> in = sample(a);
            SafetensorsWriter.write(p, in, meta);
            SafetensorsFile f = SafetensorsFile.open(p, a);
            assertEquals(List.of("w", "idx", "scalar", "empty"), List.copyOf(f.names()));
            assertEquals(meta, f.metadata());
            assertEquals(List.copyOf(meta.keySet()), List.copyOf(f.metadata().keySet()));
            for (Map.Entry<String, Tensor> e : in.entrySet()) {
                Tensor t = f.tensor(e.getKey(), a, Device.CPU);
                assertEquals(e.getValue().shape(), t.shape(), e.getKey());
                assertEquals(e.getValue().dtype(), t.dtype(), e.getKey());
                assertEquals(e.getKey(), t.name());
                if (t.dtype() == DType.F32) {
                    assertArrayEquals(e.getValue().toFloatArray(), t.toFloatArray(), 0f, e.getKey());
                } else {
                    assertArrayEquals(e.getValue().toIntArray(), t.toIntArray(), e.getKey());
                }
            }
            TensorInfo w = f.info("w");
            assertEquals("F32", w.dtype());
            assertArrayEquals(new int[] {2, 3}, w.shape());
            assertEquals(24, w.byteSize());
            assertEquals(6, w.numel());
            assertEquals(0, f.info("scalar").shape().length);
        }
    }

    @Test
    void f32AndI32AreViewsOfTheMappedFile() throws Exception {
        Path p = dir.resolve("m.safetensors");
        try (Arena a = Arena.ofConfined()) {
            SafetensorsWriter.write(p, sample(a), null);
        }
        Arena file = Arena.ofConfined();
        Tensor w;
        try (Arena target = Arena.ofConfined()) {
            SafetensorsFile f = SafetensorsFile.open(p, file);
            w = f.tensor("w", target, Device.CPU);
            Tensor idx = f.tensor("idx", target, Device.CPU);
            assertTrue(w.data().isMapped(), "f32 must view the mapping, not copy");
            assertTrue(idx.data().isMapped(), "i32 must view the mapping, not copy");
            assertTrue(w.arena() == file, "a view belongs to the file's arena");
            assertTrue(w.data().isReadOnly());
            assertEquals(-2.5f, w.get(0, 1));
            assertThrows(
                    IllegalArgumentException.class,
                    () -> w.setFloat(0, 1f),
                    "a read-only mapping must refuse writes from Java");
        }
        file.close();
        // After unmapping, access is refused by the FFM API, never a read of unmapped memory.
        assertThrows(IllegalStateException.class, () -> w.getFloat(0));
    }

    @Test
    void copyOnWriteViewsAreWritableAndLeaveTheFileAlone() throws Exception {
        Path p = dir.resolve("m.safetensors");
        try (Arena a = Arena.ofConfined()) {
            SafetensorsWriter.write(p, sample(a), null);
        }
        byte[] before = Files.readAllBytes(p);
        try (Arena a = Arena.ofConfined()) {
            SafetensorsFile f = SafetensorsFile.open(p, a, SafetensorsFile.Access.COPY_ON_WRITE);
            Tensor w = f.tensor("w", a, Device.CPU);
            assertTrue(w.data().isMapped());
            assertFalse(w.data().isReadOnly());
            w.setFloat(0, 99f);
            assertEquals(99f, w.getFloat(0));
            assertEquals(99f, f.tensor("w", a, Device.CPU).getFloat(0), "views of one mapping share pages");
        }
        assertArrayEquals(before, Files.readAllBytes(p), "copy-on-write must never reach the file");
    }

    @Test
    void bf16StorageRoundsToNearestEvenAndHalvesTheData() throws Exception {
        float tie = 1f + 0x1p-8f; // halfway between 1 and the next bf16 (1 + 2^-7): even is 1
        float tieUp = 1f + 0x1p-7f + 0x1p-8f; // halfway between 1 + 2^-7 and 1 + 2^-6: even is 1 + 2^-6
        float above = 1f + 0x1p-8f + 0x1p-20f;
        float[] values = {
            0f,
            -0f,
            1f,
            -2f,
            0.15625f,
            tie,
            tieUp,
            above,
            Float.POSITIVE_INFINITY,
            Float.NEGATIVE_INFINITY,
            Float.NaN,
            Float.MAX_VALUE,
            0x1p-133f
        };
        float[] expected = {
            0f,
            -0f,
            1f,
            -2f,
            0.15625f,
            1f,
            1f + 0x1p-6f,
            1f + 0x1p-7f,
            Float.POSITIVE_INFINITY,
            Float.NEGATIVE_INFINITY,
            Float.NaN,
            Float.POSITIVE_INFINITY,
            0x1p-133f
        };
        Path f32 = dir.resolve("f32.safetensors");
        Path bf16 = dir.resolve("bf16.safetensors");
        Map<String, String> meta = Map.of("dtype", "bf16");
        try (Arena a = Arena.ofConfined()) {
            Map<String, Tensor> in = new LinkedHashMap<>();
            in.put("v", Tensor.of(a, Device.CPU, values, values.length));
            in.put("ids", Tensor.ofInts(a, Device.CPU, new int[] {1, 2, 3}, 3));
            SafetensorsWriter.write(f32, in, meta);
            SafetensorsWriter.write(bf16, in, meta, FloatFormat.BF16);
            SafetensorsFile f = SafetensorsFile.open(bf16, a);
            assertEquals("BF16", f.info("v").dtype());
            assertEquals("I32", f.info("ids").dtype());
            assertEquals(meta, f.metadata());
            assertEquals(values.length * 2L, f.info("v").byteSize());
            Tensor v = f.tensor("v", a, Device.CPU);
            assertEquals(DType.F32, v.dtype());
            assertFalse(v.data().isMapped(), "bf16 is widened into a new tensor");
            assertArrayEquals(expected, v.toFloatArray(), 0f);
            assertArrayEquals(
                    new int[] {1, 2, 3}, f.tensor("ids", a, Device.CPU).toIntArray());
            // The wider type is laid out first, so the I32 data stays aligned and is still viewed in place.
            assertTrue(f.tensor("ids", a, Device.CPU).data().isMapped());
        }
        assertTrue(Files.size(bf16) < Files.size(f32));
    }

    @Test
    void bf16TensorsAreStoredAsTheyAreAndReadBackExactly() throws Exception {
        Path p = dir.resolve("bf16-tensor.safetensors");
        try (Arena a = Arena.ofConfined()) {
            float[] values = {1.0078125f, -3f, 0.10009765625f, Float.NEGATIVE_INFINITY};
            SafetensorsWriter.write(p, Map.of("w", Tensor.of(a, Device.CPU, DType.BF16, values, 2, 2)), null);
            SafetensorsFile f = SafetensorsFile.open(p, a);
            assertEquals("BF16", f.info("w").dtype());
            assertEquals(8, f.info("w").byteSize());
            assertArrayEquals(values, f.tensor("w", a, Device.CPU).toFloatArray(), 0f);
        }
    }

    @Test
    void writesTheReferenceImplementationsBytes() throws Exception {
        // Golden bytes from the safetensors crate's own tests (test_serialization, test_empty).
        Path p = dir.resolve("golden.safetensors");
        try (Arena a = Arena.ofConfined()) {
            SafetensorsWriter.write(
                    p, Map.of("attn.0", Tensor.of(a, Device.CPU, new float[] {0, 1, 2, 3, 4, 5}, 1, 2, 3)), null);
        }
        byte[] expected = Crafted.concat(
                new byte[] {64, 0, 0, 0, 0, 0, 0, 0},
                "{\"attn.0\":{\"dtype\":\"F32\",\"shape\":[1,2,3],\"data_offsets\":[0,24]}}".getBytes(),
                Crafted.floats(0, 1, 2, 3, 4, 5));
        assertArrayEquals(expected, Files.readAllBytes(p));

        SafetensorsWriter.write(p, Map.of(), Map.of("framework", "pt"));
        assertArrayEquals(
                Crafted.concat(
                        new byte[] {40, 0, 0, 0, 0, 0, 0, 0},
                        "{\"__metadata__\":{\"framework\":\"pt\"}}     ".getBytes()),
                Files.readAllBytes(p));
        SafetensorsWriter.write(p, Map.of(), null);
        assertArrayEquals(
                Crafted.concat(new byte[] {8, 0, 0, 0, 0, 0, 0, 0}, "{}      ".getBytes()), Files.readAllBytes(p));
    }

    @Test
    void readsAReferenceFileWithHeaderKeysOutOfDataOrder() throws Exception {
        String header = "{\"b\":{\"dtype\":\"I32\",\"shape\":[2,2],\"data_offsets\":[8,24]},"
                + "\"__metadata__\":{\"format\":\"pt\"},\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}";
        byte[] data =
                Crafted.concat(Crafted.floats(1.5f, -3f), Crafted.longs(0x0000000200000001L, 0x0000000400000003L));
        Path p = Crafted.file(dir, "ref.safetensors", header, data);
        try (Arena a = Arena.ofConfined()) {
            SafetensorsFile f = SafetensorsFile.open(p, a);
            assertEquals(List.of("b", "a"), List.copyOf(f.names()));
            assertArrayEquals(
                    new int[] {1, 2, 3, 4}, f.tensor("b", a, Device.CPU).toIntArray());
            assertArrayEquals(
                    new float[] {1.5f, -3f}, f.tensor("a", a, Device.CPU).toFloatArray(), 0f);
            assertEquals(Map.of("format", "pt"), f.metadata());
        }
    }

    @Test
    void misalignedF32IsCopiedNotMisread() throws Exception {
        // A 2-byte tensor first pushes the f32 data off 4-byte alignment: it must come back as a correct copy.
        String header = "{\"h\":{\"dtype\":\"BF16\",\"shape\":[1],\"data_offsets\":[0,2]},"
                + "\"f\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[2,14]},"
                + "\"i\":{\"dtype\":\"I32\",\"shape\":[1],\"data_offsets\":[14,18]}}";
        byte[] data = Crafted.concat(Crafted.shorts(0x3F80), Crafted.floats(1.25f, -7f, 1e30f), Crafted.ints(-5));
        Path p = Crafted.file(dir, "mis.safetensors", header, data);
        try (Arena a = Arena.ofConfined()) {
            SafetensorsFile f = SafetensorsFile.open(p, a);
            Tensor t = f.tensor("f", a, Device.CPU);
            assertFalse(t.data().isMapped());
            assertEquals(0, t.data().address() % Tensor.ALIGNMENT);
            assertArrayEquals(new float[] {1.25f, -7f, 1e30f}, t.toFloatArray(), 0f);
            assertArrayEquals(new int[] {-5}, f.tensor("i", a, Device.CPU).toIntArray());
            assertArrayEquals(new float[] {1f}, f.tensor("h", a, Device.CPU).toFloatArray(), 0f);
        }
    }

    @Test
    void f16IsWidenedExactlyIncludingSpecialValues() throws Exception {
        int[] halves = {0x0000, 0x8000, 0x3C00, 0xC000, 0x7BFF, 0x0001, 0x03FF, 0x0400, 0x7C00, 0xFC00, 0x7E00, 0x3555};
        float[] expected = {
            0f,
            -0f,
            1f,
            -2f,
            65504f,
            0x1p-24f,
            0x1.ff8p-15f,
            0x1p-14f,
            Float.POSITIVE_INFINITY,
            Float.NEGATIVE_INFINITY,
            Float.NaN,
            0.333251953125f
        };
        String header = "{\"h\":{\"dtype\":\"F16\",\"shape\":[3,4],\"data_offsets\":[0,24]}}";
        Path p = Crafted.file(dir, "f16.safetensors", header, Crafted.shorts(halves));
        try (Arena a = Arena.ofConfined()) {
            Tensor t = SafetensorsFile.open(p, a).tensor("h", a, Device.CPU);
            assertEquals(DType.F32, t.dtype());
            assertArrayEquals(new int[] {3, 4}, t.shape().dims());
            assertArrayEquals(expected, t.toFloatArray(), 0f);
        }
    }

    @Test
    void bf16IsWidenedExactlyIncludingSpecialValues() throws Exception {
        int[] bits = {0x0000, 0x8000, 0x3F80, 0xC000, 0x7F7F, 0x0001, 0x007F, 0x7F80, 0xFF80, 0x7FC0, 0x3EAB};
        String header = "{\"b\":{\"dtype\":\"BF16\",\"shape\":[11],\"data_offsets\":[0,22]}}";
        Path p = Crafted.file(dir, "bf16.safetensors", header, Crafted.shorts(bits));
        try (Arena a = Arena.ofConfined()) {
            float[] got = SafetensorsFile.open(p, a).tensor("b", a, Device.CPU).toFloatArray();
            for (int i = 0; i < bits.length; i++) {
                assertEquals(bits[i] << 16, Float.floatToRawIntBits(got[i]), "bf16 0x" + Integer.toHexString(bits[i]));
            }
            assertEquals(0x1p-133f, got[5]);
            assertTrue(Float.isNaN(got[9]));
        }
    }

    @Test
    void i64IsNarrowedToI32WithARangeCheck() throws Exception {
        String header = "{\"ok\":{\"dtype\":\"I64\",\"shape\":[3],\"data_offsets\":[0,24]},"
                + "\"big\":{\"dtype\":\"I64\",\"shape\":[2],\"data_offsets\":[24,40]}}";
        byte[] data = Crafted.longs(5, Integer.MIN_VALUE, Integer.MAX_VALUE, 1, 1L << 31);
        Path p = Crafted.file(dir, "i64.safetensors", header, data);
        try (Arena a = Arena.ofConfined()) {
            SafetensorsFile f = SafetensorsFile.open(p, a);
            Tensor ok = f.tensor("ok", a, Device.CPU);
            assertEquals(DType.I32, ok.dtype());
            assertArrayEquals(new int[] {5, Integer.MIN_VALUE, Integer.MAX_VALUE}, ok.toIntArray());
            SafetensorsFormatException e =
                    assertThrows(SafetensorsFormatException.class, () -> f.tensor("big", a, Device.CPU));
            assertMessage(e, p, "'big'", "2147483648", "element 1", "I32");
        }
    }

    @Test
    void unsupportedTypesAreRefusedByNameWithoutSpoilingTheFile() throws Exception {
        String header = "{\"d\":{\"dtype\":\"F64\",\"shape\":[1],\"data_offsets\":[0,8]},"
                + "\"q\":{\"dtype\":\"F8_E4M3\",\"shape\":[4],\"data_offsets\":[8,12]},"
                + "\"f\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[12,16]}}";
        Path p = Crafted.file(dir, "mixed.safetensors", header, Crafted.concat(new byte[12], Crafted.floats(3f)));
        try (Arena a = Arena.ofConfined()) {
            SafetensorsFile f = SafetensorsFile.open(p, a);
            assertMessage(
                    assertThrows(SafetensorsFormatException.class, () -> f.tensor("d", a, Device.CPU)),
                    p,
                    "'d'",
                    "F64");
            assertMessage(
                    assertThrows(SafetensorsFormatException.class, () -> f.tensor("q", a, Device.CPU)),
                    p,
                    "'q'",
                    "F8_E4M3");
            assertEquals(3f, f.tensor("f", a, Device.CPU).item());
            IllegalArgumentException missing =
                    assertThrows(IllegalArgumentException.class, () -> f.tensor("nope", a, Device.CPU));
            assertTrue(missing.getMessage().contains("'nope'"), missing.getMessage());
            // loading onto a GPU copies the host form there; without one the copy says why it cannot
            assertThrows(UnsupportedOperationException.class, () -> f.tensor("f", a, UnusableDevice.create()));
        }
    }

    static void assertMessage(Exception e, Path file, String... parts) {
        String m = e.getMessage();
        assertTrue(m.contains(file.toString()), "message must name the file: " + m);
        for (String part : parts) {
            assertTrue(m.contains(part), "message must mention " + part + ": " + m);
        }
    }
}
