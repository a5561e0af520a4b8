package io.sbora4j.tensor;

import java.util.Arrays;

/** The dimensions of a row-major tensor. Immutable. */
public final class Shape {

    private final int[] dims;
    private final long numel;

    private Shape(int[] dims) {
        long n = 1;
        for (int d : dims) {
            if (d < 0) {
                throw new IllegalArgumentException("negative dimension in shape " + Arrays.toString(dims));
            }
            n = Math.multiplyExact(n, d);
        }
        this.dims = dims;
        this.numel = n;
    }

    /** A shape with the given dimensions; no dimensions is a scalar. */
    public static Shape of(int... dims) {
        return new Shape(dims.clone());
    }

    public int rank() {
        return dims.length;
    }

    public int dim(int i) {
        return dims[i < 0 ? dims.length + i : i];
    }

    public int[] dims() {
        return dims.clone();
    }

    /** Number of elements. */
    public long numel() {
        return numel;
    }

    /** The last dimension (1 for a scalar): the length of a row. */
    public int cols() {
        return dims.length == 0 ? 1 : dims[dims.length - 1];
    }

    /** All but the last dimension, multiplied: the number of rows when viewed as a matrix. */
    public long rows() {
        int c = cols();
        return c == 0 ? 0 : numel / c;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Shape s && Arrays.equals(dims, s.dims);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(dims);
    }

    @Override
    public String toString() {
        return Arrays.toString(dims);
    }
}
