package io.sbora4j.io;

import java.util.Arrays;
import java.util.Objects;

/**
 * Where one tensor lies in a safetensors file, as its header declares it (already validated).
 *
 * @param name  the tensor's key in the header
 * @param dtype the element type as spelled in the file: {@code F32}, {@code BF16}, {@code I64}, ...
 * @param shape the dimensions, row-major; empty for a scalar
 * @param begin first byte, relative to the start of the data region (the byte after the header)
 * @param end   one past the last byte, relative to the start of the data region
 */
public record TensorInfo(String name, String dtype, int[] shape, long begin, long end) {

    public TensorInfo {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(dtype, "dtype");
        shape = shape.clone();
    }

    /** A copy of the dimensions (the record's array is never handed out). */
    @Override
    public int[] shape() {
        return shape.clone();
    }

    /** Number of elements: the product of the dimensions. */
    public long numel() {
        long n = 1;
        for (int d : shape) {
            n *= d; // cannot overflow: validated against the byte range when the header was read
        }
        return n;
    }

    /** Bytes the tensor occupies in the file. */
    public long byteSize() {
        return end - begin;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof TensorInfo t
                && name.equals(t.name)
                && dtype.equals(t.dtype)
                && Arrays.equals(shape, t.shape)
                && begin == t.begin
                && end == t.end;
    }

    @Override
    public int hashCode() {
        return Objects.hash(name, dtype, Arrays.hashCode(shape), begin, end);
    }

    @Override
    public String toString() {
        return name + " " + dtype + " " + Arrays.toString(shape) + " @[" + begin + ", " + end + ")";
    }
}
