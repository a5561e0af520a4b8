package io.sbora4j.tensor;

/** Element types a tensor can hold. */
public enum DType {
    /** IEEE binary32: activations, weights, gradients, optimizer state. */
    F32(4),
    /** Signed 32-bit integers: index lists (SBoRA's idx, token ids). */
    I32(4),
    /** Unsigned bytes: packed quantised weights (two NF4 codes per byte) and 8-bit scale codes. */
    U8(1);

    private final int bytes;

    DType(int bytes) {
        this.bytes = bytes;
    }

    /** Bytes per element. */
    public int bytes() {
        return bytes;
    }
}
