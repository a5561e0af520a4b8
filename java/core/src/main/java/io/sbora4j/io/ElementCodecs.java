package io.sbora4j.io;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * Element conversions between file bytes (little-endian, not necessarily aligned) and tensor memory (native order,
 * aligned). Every widening here is exact; the one narrowing (f32 to bf16) rounds to nearest even.
 */
final class ElementCodecs {

    static final ValueLayout.OfShort LE_SHORT = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final ValueLayout.OfInt LE_INT = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final ValueLayout.OfLong LE_LONG = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final ValueLayout.OfFloat LE_FLOAT = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private ElementCodecs() {}

    /** bf16 is the upper half of an f32: widening is a shift, exact for every value including NaN payloads. */
    static float bf16ToFloat(short bits) {
        return Float.intBitsToFloat((bits & 0xFFFF) << 16);
    }

    /** f32 to bf16, rounding to nearest even; NaN stays a (quiet) NaN, overflow rounds to infinity. */
    static short floatToBf16(float f) {
        int bits = Float.floatToRawIntBits(f);
        if (Float.isNaN(f)) {
            // Rounding could carry a NaN with a low-only payload into infinity; keep sign, force a quiet NaN.
            return (short) ((bits >>> 16) | 0x0040);
        }
        int lsb = (bits >>> 16) & 1;
        return (short) ((bits + 0x7FFF + lsb) >>> 16);
    }

    /** Widens {@code n} little-endian bf16 values at {@code src} into f32 at {@code dst}. */
    static void bf16ToF32(MemorySegment src, MemorySegment dst, long n) {
        for (long i = 0; i < n; i++) {
            dst.setAtIndex(ValueLayout.JAVA_FLOAT, i, bf16ToFloat(src.getAtIndex(LE_SHORT, i)));
        }
    }

    /** Widens {@code n} little-endian IEEE half values (subnormals, infinities, NaN included) into f32. */
    static void f16ToF32(MemorySegment src, MemorySegment dst, long n) {
        for (long i = 0; i < n; i++) {
            dst.setAtIndex(ValueLayout.JAVA_FLOAT, i, Float.float16ToFloat(src.getAtIndex(LE_SHORT, i)));
        }
    }

    /**
     * Narrows {@code n} little-endian i64 values into i32, stopping at the first one out of range.
     *
     * @return the index of the first value outside the i32 range, or -1 when all fit
     */
    static long i64ToI32(MemorySegment src, MemorySegment dst, long n) {
        for (long i = 0; i < n; i++) {
            long v = src.getAtIndex(LE_LONG, i);
            if (v != (int) v) {
                return i;
            }
            dst.setAtIndex(ValueLayout.JAVA_INT, i, (int) v);
        }
        return -1;
    }
}
