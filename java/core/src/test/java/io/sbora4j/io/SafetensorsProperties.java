package io.sbora4j.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sbora4j.tensor.DType;
import io.sbora4j.tensor.Device;
import io.sbora4j.tensor.Tensor;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.SplittableRandom;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;

/**
 * Corrupted files never get past the reader as anything but a {@link SafetensorsFormatException} (no other exception,
 * no out-of-bounds read), and bf16 rounding is exactly round-to-nearest-even.
 */
class SafetensorsProperties {

    /** A valid file with every loadable type and one that is not, at awkward offsets. */
    private static final String HEADER = "{\"__metadata__\":{\"k\":\"v\"},"
            + "\"f\":{\"dtype\":\"F32\",\"shape\":[2,3],\"data_offsets\":[0,24]},"
            + "\"h\":{\"dtype\":\"F16\",\"shape\":[3],\"data_offsets\":[24,30]},"
            + "\"b\":{\"dtype\":\"BF16\",\"shape\":[1,1],\"data_offsets\":[30,32]},"
            + "\"i\":{\"dtype\":\"I32\",\"shape\":[2],\"data_offsets\":[32,40]},"
            + "\"l\":{\"dtype\":\"I64\",\"shape\":[2],\"data_offsets\":[40,56]},"
            + "\"u\":{\"dtype\":\"U8\",\"shape\":[3],\"data_offsets\":[56,59]},"
            + "\"g\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[59,63]}}";

    @Property(tries = 400)
    void corruptedFilesFailCleanly(@ForAll long seed) throws IOException {
        SplittableRandom rng = new SplittableRandom(seed);
        Path dir = Files.createTempDirectory("st-fuzz");
        try {
            byte[] data = new byte[63];
            rng.nextBytes(data);
            Path p = Crafted.file(dir, "f.safetensors", HEADER, data);
            byte[] bytes = Files.readAllBytes(p);
            int headerEnd = bytes.length - data.length;
            switch (rng.nextInt(3)) {
                case 0 -> { // any byte of the length field or header
                    bytes[rng.nextInt(headerEnd)] = (byte) rng.nextInt(256);
                }
                case 1 -> { // a digit of the header: shapes and offsets that still parse
                    for (int tries = 0; tries < 100; tries++) {
                        int at = 8 + rng.nextInt(headerEnd - 8);
                        if (Character.isDigit(bytes[at])) {
                            bytes[at] = (byte) ('0' + rng.nextInt(10));
                            break;
                        }
                    }
                }
                default -> { // truncated or extended
                    int len = rng.nextInt(bytes.length + 9);
                    bytes = Arrays.copyOf(bytes, len);
                }
            }
            Files.write(p, bytes);
            check(p, bytes);
        } finally {
            try (var s = Files.list(dir)) {
                for (Path f : s.toList()) {
                    Files.delete(f);
                }
            }
            Files.delete(dir);
        }
    }

    /** Opening and loading everything may fail only with the format exception; what loads matches the file. */
    private static void check(Path p, byte[] bytes) {
        try (Arena a = Arena.ofConfined()) {
            SafetensorsFile f;
            try {
                f = SafetensorsFile.open(p, a);
            } catch (SafetensorsFormatException e) {
                return;
            } catch (IOException e) {
                throw new AssertionError("unexpected " + e, e);
            }
            long dataStart = bytes.length
                    - f.names().stream().mapToLong(n -> f.info(n).byteSize()).sum();
            for (String name : f.names()) {
                TensorInfo info = f.info(name);
                Tensor t;
                try {
                    t = f.tensor(name, a, Device.CPU);
                } catch (SafetensorsFormatException e) {
                    continue; // unsupported type or I64 out of range: refused by name
                }
                assertEquals(info.numel(), t.numel(), name);
                if (info.dtype().equals("F32") || info.dtype().equals("I32")) {
                    MemorySegment fileBytes =
                            MemorySegment.ofArray(bytes).asSlice(dataStart + info.begin(), info.byteSize());
                    assertEquals(-1, fileBytes.mismatch(t.data()), name + " must hold exactly its bytes");
                }
            }
        }
    }

    @Property(tries = 2000)
    void bf16RoundsToNearestEven(@ForAll int bits) {
        float f = Float.intBitsToFloat(bits);
        short r = ElementCodecs.floatToBf16(f);
        float w = ElementCodecs.bf16ToFloat(r);
        if (Float.isNaN(f)) {
            assertTrue(Float.isNaN(w), "NaN stays NaN");
            return;
        }
        float down = Float.intBitsToFloat(bits & 0xFFFF0000); // toward zero
        float up = Float.intBitsToFloat((bits & 0xFFFF0000) + 0x10000); // away from zero (may be infinity)
        double dDown = Math.abs((double) f - down);
        double dUp =
                Float.isInfinite(up) ? Math.abs((double) f - Math.copySign(0x1p128, f)) : Math.abs((double) f - up);
        float expected = dDown < dUp ? down : dUp < dDown ? up : ((bits >>> 16) & 1) == 0 ? down : up;
        assertEquals(
                Float.floatToRawIntBits(expected),
                Float.floatToRawIntBits(w),
                "bf16 of " + f + " (0x" + Integer.toHexString(bits) + ")");
    }

    @Property(tries = 500)
    void f16WideningMatchesTheJdk(@ForAll short half) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment src = a.allocate(2);
            src.set(ElementCodecs.LE_SHORT, 0, half);
            Tensor out = Tensor.empty(a, Device.CPU, DType.F32, 1);
            ElementCodecs.f16ToF32(src, out.data(), 1);
            float expected = Float.float16ToFloat(half);
            assertEquals(
                    Float.floatToRawIntBits(expected),
                    Float.floatToRawIntBits(out.data().get(ValueLayout.JAVA_FLOAT, 0)));
            // and back: every half is exactly representable in f32
            if (!Float.isNaN(expected)) {
                assertEquals(half, Float.floatToFloat16(expected));
            }
        }
    }
}
