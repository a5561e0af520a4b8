package io.sbora4j.tensor;

/**
 * Conversions between f32 and bfloat16 bit patterns, as the C and CUDA kernels do them: f32 to bf16 rounds to
 * nearest with ties to even (a NaN stays a quiet NaN of the same sign), bf16 to f32 is exact.
 */
public final class BFloat16 {

    private BFloat16() {}

    /** The bf16 nearest to {@code f}, as its 16 bits. */
    public static short fromFloat(float f) {
        int bits = Float.floatToRawIntBits(f);
        if ((bits & 0x7fffffff) > 0x7f800000) {
            return (short) ((bits >>> 16) | 0x0040); // NaN: keep sign and top payload, force quiet
        }
        int roundingBias = 0x7fff + ((bits >>> 16) & 1);
        return (short) ((bits + roundingBias) >>> 16);
    }

    /** The f32 value of the bf16 {@code h}. */
    public static float toFloat(short h) {
        return Float.intBitsToFloat((h & 0xffff) << 16);
    }

    /** {@code f} rounded to the nearest bf16, as an f32. */
    public static float round(float f) {
        return toFloat(fromFloat(f));
    }
}
