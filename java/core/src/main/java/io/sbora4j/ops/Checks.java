package io.sbora4j.ops;

import io.sbora4j.tensor.DType;
import io.sbora4j.tensor.Tensor;
import java.util.BitSet;

/** Argument checks shared by the ops: every failure is an IllegalArgumentException naming the op and the value. */
public final class Checks {

    private Checks() {}

    /** All tensors are f32 and on the device of the first. */
    public static void f32SameDevice(String op, Tensor... ts) {
        for (Tensor t : ts) {
            if (t.dtype() != DType.F32) {
                throw new IllegalArgumentException(op + ": expected f32, got " + t.describe());
            }
            if (t.device() != ts[0].device()) {
                throw new IllegalArgumentException(
                        op + ": tensors on different devices: " + ts[0].describe() + " and " + t.describe());
            }
        }
    }

    /** Every tensor is f32 or bf16 (types may differ: a gemm's contract), all on the device of the first. */
    public static void floatingSameDevice(String op, Tensor... ts) {
        for (Tensor t : ts) {
            if (!t.dtype().isFloating()) {
                throw new IllegalArgumentException(op + ": expected f32 or bf16, got " + t.describe());
            }
            if (t.device() != ts[0].device()) {
                throw new IllegalArgumentException(
                        op + ": tensors on different devices: " + ts[0].describe() + " and " + t.describe());
            }
        }
    }

    /** Every tensor is of the floating type of the first (f32 or bf16), on its device. */
    public static void sameFloatingType(String op, Tensor... ts) {
        floatingSameDevice(op, ts);
        for (Tensor t : ts) {
            if (t.dtype() != ts[0].dtype()) {
                throw new IllegalArgumentException(op + ": types differ: " + ts[0].describe() + " and " + t.describe()
                        + " (convert one with Casts.convert)");
            }
        }
    }

    /** {@code t} has rank 2. */
    public static void matrix(String op, Tensor t) {
        if (t.rank() != 2) {
            throw new IllegalArgumentException(op + ": expected a matrix, got shape " + t.shape());
        }
    }

    /** {@code a} and {@code b} have the same shape. */
    public static void sameShape(String op, Tensor a, Tensor b) {
        if (!a.shape().equals(b.shape())) {
            throw new IllegalArgumentException(op + ": shapes differ: " + a.shape() + " and " + b.shape());
        }
    }

    /**
     * {@code idx} is a rank-1 i32 tensor on {@code like}'s device whose values are distinct and lie in
     * {@code [0, dim)}.
     */
    public static void indices(String op, Tensor idx, int dim, Tensor like) {
        if (idx.dtype() != DType.I32 || idx.rank() != 1) {
            throw new IllegalArgumentException(op + ": indices must be a rank-1 i32 tensor, got " + idx.describe());
        }
        if (idx.device() != like.device()) {
            throw new IllegalArgumentException(op + ": indices on " + idx.device() + ", data on " + like.device());
        }
        distinctInRange(op, idx.toIntArray(), dim); // r ints, copied back from a device if need be
    }

    /** Values are distinct and lie in {@code [0, dim)}. */
    public static void distinctInRange(String what, int[] values, int dim) {
        BitSet seen = new BitSet(dim);
        for (int v : values) {
            if (v < 0 || v >= dim) {
                throw new IllegalArgumentException(what + ": index " + v + " out of range [0, " + dim + ")");
            }
            if (seen.get(v)) {
                throw new IllegalArgumentException(what + ": duplicate index " + v);
            }
            seen.set(v);
        }
    }
}
