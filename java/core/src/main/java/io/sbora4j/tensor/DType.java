package io.sbora4j.tensor;

/** Element types a tensor can hold. */
public enum DType {
    /** IEEE binary32: activations, weights, gradients, optimizer state. */
    F32(4),
    /**
     * bfloat16, the upper half of an f32 (8 exponent bits, 7 mantissa bits): activations and frozen weights of
     * mixed-precision layers, which compute in f32 and round once per stored result ({@link BFloat16}). Trainable
     * parameters, their gradients and optimizer state stay f32 (master weights).
     */
    BF16(2),
    /** Signed 32-bit integers: index lists (SBoRA's idx, token ids). */
    I32(4),
    /** Unsigned bytes: packed quantised weights (two NF4 codes per byte) and 8-bit scale codes. */
    U8(1);

    private final int bytes;

    DType(int bytes) {
        this.bytes = bytes;
    }

    /** Whether elements are floating-point numbers (f32 or bf16). */
    public boolean isFloating() {
        return this == F32 || this == BF16;
    }

    /** Bytes per element. */
    public int bytes() {
        return bytes;
    }
}
