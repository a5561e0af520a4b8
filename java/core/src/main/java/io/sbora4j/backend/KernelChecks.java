package io.sbora4j.backend;

import io.sbora4j.tensor.DType;
import io.sbora4j.tensor.Device;
import io.sbora4j.tensor.Tensor;
import java.lang.foreign.ValueLayout;
import java.util.BitSet;
import java.util.Locale;
import java.util.Objects;

/**
 * The {@link Backend} contract checked in Java, one method per {@code Backend} method: every backend calls the check
 * of a method before it computes, so a wrong argument is an exception naming the method and the tensor, never a
 * kernel reading or writing past a tensor's memory (which would take the JVM down).
 *
 * <p>Each check verifies that every tensor is present and in memory the backend computes on (host memory for a host
 * backend, the device's memory for another), of a type the contract allows,
 * of the sizes the other arguments imply, and that outputs are writable (not a read-only view of a file). Index
 * values (gathers, index-adds, RoPE positions, cross-entropy targets) are checked here when the index tensor is in
 * host memory; on a device the kernels check them, or the ops that made them did.
 *
 * <p>Failures: {@link NullPointerException} for a missing tensor, {@link IllegalArgumentException} for a device,
 * type, size or read-only output that does not fit, {@link IndexOutOfBoundsException} for an index value outside
 * its range, {@link IllegalStateException} for a tensor whose memory was already released (and the Foreign Function
 * &amp; Memory API's {@code WrongThreadException} in the kernel call for memory confined to another thread).
 *
 * <p>What a particular backend cannot do (the cpu's f32 kernels take no bf16) it checks on top, with
 * {@link #f32}.
 */
public final class KernelChecks {

    private KernelChecks() {}

    // ---------------------------------------------------------------- helpers

    private static Tensor on(String op, Device device, String name, Tensor t) {
        Objects.requireNonNull(t, () -> op + ": " + name + " is null");
        if (!addressable(device, t.device())) {
            throw new IllegalArgumentException(op + ": " + name + " " + t.describe() + " lives on " + t.device()
                    + ", whose memory this backend (on " + device + ") cannot address");
        }
        if (!t.data().scope().isAlive()) {
            throw new IllegalStateException(op + ": the memory of " + name + " " + t.describe()
                    + " was already released (its arena or scope is closed)");
        }
        return t;
    }

    /**
     * Whether a backend on {@code device} can compute on memory of {@code of}: host memory for a host backend (every
     * host device, as {@code Backends.open} gives a backend a device of its own), the same device memory otherwise.
     */
    private static boolean addressable(Device device, Device of) {
        return device.isHost() ? of.isHost() : !of.isHost() && of.memory() == device.memory();
    }

    private static Tensor optional(String op, Device device, String name, Tensor t) {
        return t == null ? null : on(op, device, name, t);
    }

    private static void floating(String op, String name, Tensor t) {
        if (!t.dtype().isFloating()) {
            throw new IllegalArgumentException(op + ": " + name + " must be f32 or bf16, got " + t.describe());
        }
    }

    private static void type(String op, String name, Tensor t, DType want) {
        if (t.dtype() != want) {
            throw new IllegalArgumentException(
                    op + ": " + name + " must be " + want.name().toLowerCase(Locale.ROOT) + ", got " + t.describe());
        }
    }

    private static void sameType(String op, String name, Tensor t, Tensor like) {
        if (t.dtype() != like.dtype()) {
            throw new IllegalArgumentException(
                    op + ": " + name + " " + t.describe() + " must have the type of " + like.describe());
        }
    }

    private static void writable(String op, String name, Tensor t) {
        if (t.isReadOnly()) {
            throw new IllegalArgumentException(op + ": output " + name + " " + t.describe()
                    + " is a read-only view (of a memory-mapped file): kernels cannot write it");
        }
    }

    /** {@code t} holds a rows x cols matrix: rows·cols elements, rows of cols (any shape when it is empty). */
    private static void matrix(String op, String name, Tensor t, long rows, long cols) {
        long n;
        try {
            n = Math.multiplyExact(rows, cols);
        } catch (ArithmeticException e) {
            throw new IllegalArgumentException(op + ": " + name + " would be " + rows + " x " + cols + " elements");
        }
        if (t.numel() != n || (n > 0 && t.shape().cols() != cols)) {
            throw new IllegalArgumentException(
                    op + ": " + name + " is " + t.describe() + ", expected " + rows + " x " + cols);
        }
    }

    /** {@code t} has exactly {@code n} elements. */
    private static void count(String op, String name, Tensor t, long n) {
        if (t.numel() != n) {
            throw new IllegalArgumentException(
                    op + ": " + name + " is " + t.describe() + ", expected " + n + " elements");
        }
    }

    /** {@code t} is the matrix {@code like} is (same rows and columns). */
    private static void like(String op, String name, Tensor t, String likeName, Tensor like) {
        if (t.numel() != like.numel()
                || (t.numel() > 0 && t.shape().cols() != like.shape().cols())) {
            throw new IllegalArgumentException(op + ": " + name + " " + t.describe() + " must have the shape of "
                    + likeName + " " + like.describe());
        }
    }

    /** An index list: a rank-1 i32 tensor. */
    private static Tensor indexList(String op, Device device, String name, Tensor idx) {
        on(op, device, name, idx);
        if (idx.dtype() != DType.I32 || idx.rank() != 1) {
            throw new IllegalArgumentException(
                    op + ": " + name + " must be a rank-1 i32 tensor, got " + idx.describe());
        }
        return idx;
    }

    /** Values of a host index tensor lie in [0, dim), and are distinct if asked. Device tensors are not read. */
    private static void values(String op, String name, Tensor idx, long dim, boolean distinct) {
        if (!idx.device().isHost()) {
            return;
        }
        long n = idx.numel();
        BitSet seen = distinct ? new BitSet((int) Math.min(dim, Integer.MAX_VALUE)) : null;
        for (long j = 0; j < n; j++) {
            int v = idx.data().getAtIndex(ValueLayout.JAVA_INT, j);
            if (v < 0 || v >= dim) {
                throw new IndexOutOfBoundsException(
                        op + ": " + name + "[" + j + "] = " + v + " lies outside [0, " + dim + ")");
            }
            if (seen != null) {
                if (seen.get(v)) {
                    throw new IllegalArgumentException(
                            op + ": " + name + " holds " + v + " twice; the indices must be distinct");
                }
                seen.set(v);
            }
        }
    }

    /** Cross-entropy targets: in [0, vocab) or the ignore index. */
    private static void targets(String op, Tensor targets, long vocab, int ignoreIndex) {
        if (!targets.device().isHost()) {
            return;
        }
        for (long i = 0; i < targets.numel(); i++) {
            int t = targets.data().getAtIndex(ValueLayout.JAVA_INT, i);
            if (t != ignoreIndex && (t < 0 || t >= vocab)) {
                throw new IndexOutOfBoundsException(op + ": target " + t + " of row " + i + " lies outside [0, " + vocab
                        + ") and is not the ignore index " + ignoreIndex);
            }
        }
    }

    /**
     * Every tensor given (nulls skipped) is f32: for a backend whose kernels of a method take f32 only, on top of
     * the contract's check.
     */
    public static void f32(String op, Tensor... ts) {
        for (Tensor t : ts) {
            if (t != null && t.dtype() != DType.F32) {
                throw new IllegalArgumentException(op + ": this backend's kernel takes f32, got " + t.describe());
            }
        }
    }

    // ---------------------------------------------------------------- the contract, method by method

    /** {@link Backend#gemm}: c (m x n) = op(a) (m x k) · op(b) (k x n); f32 or bf16. */
    public static void gemm(Device device, boolean transA, boolean transB, Tensor a, Tensor b, Tensor c) {
        String op = "gemm";
        gemmOperand(op, device, "a", a);
        gemmOperand(op, device, "b", b);
        gemmOperand(op, device, "c", c);
        int m = c.dim(0), n = c.dim(1), k = transA ? a.dim(0) : a.dim(1);
        if ((transA ? a.dim(1) : a.dim(0)) != m) {
            throw new IllegalArgumentException(
                    op + ": op(a) of " + a.describe() + " has not the " + m + " rows of c " + c.describe());
        }
        if ((transB ? b.dim(1) : b.dim(0)) != k || (transB ? b.dim(0) : b.dim(1)) != n) {
            throw new IllegalArgumentException(op + ": op(b) of " + b.describe() + " is not " + k + " x " + n
                    + " (op(a) is " + m + " x " + k + ", c " + c.describe() + ")");
        }
        writable(op, "c", c);
    }

    private static void gemmOperand(String op, Device device, String name, Tensor t) {
        on(op, device, name, t);
        floating(op, name, t);
        if (t.rank() != 2) {
            throw new IllegalArgumentException(op + ": " + name + " must be a matrix, got " + t.describe());
        }
    }

    /** {@link Backend#gatherCols}: out (rows x r) = x[:, idx]. */
    public static void gatherCols(Device device, Tensor x, Tensor idx, Tensor out) {
        String op = "gatherCols";
        on(op, device, "x", x);
        indexList(op, device, "idx", idx);
        on(op, device, "out", out);
        floating(op, "x", x);
        sameType(op, "out", out, x);
        matrix(op, "out", out, x.shape().rows(), idx.numel());
        writable(op, "out", out);
        values(op, "idx", idx, x.shape().cols(), false);
    }

    /** {@link Backend#gatherRows}: out (r x cols) = x[idx, :]. */
    public static void gatherRows(Device device, Tensor x, Tensor idx, Tensor out) {
        String op = "gatherRows";
        on(op, device, "x", x);
        indexList(op, device, "idx", idx);
        on(op, device, "out", out);
        floating(op, "x", x);
        sameType(op, "out", out, x);
        matrix(op, "out", out, idx.numel(), x.shape().cols());
        writable(op, "out", out);
        values(op, "idx", idx, x.shape().rows(), false);
    }

    /** {@link Backend#indexAddCols}: dst[:, idx] += alpha·src, src rows x r, idx distinct. */
    public static void indexAddCols(Device device, Tensor dst, Tensor idx, Tensor src) {
        String op = "indexAddCols";
        on(op, device, "dst", dst);
        indexList(op, device, "idx", idx);
        on(op, device, "src", src);
        floating(op, "dst", dst);
        floating(op, "src", src);
        matrix(op, "src", src, dst.shape().rows(), idx.numel());
        writable(op, "dst", dst);
        values(op, "idx", idx, dst.shape().cols(), true);
    }

    /** {@link Backend#indexAddRows}: dst[idx, :] += alpha·src, src r x cols, repeated indices accumulate. */
    public static void indexAddRows(Device device, Tensor dst, Tensor idx, Tensor src) {
        String op = "indexAddRows";
        on(op, device, "dst", dst);
        indexList(op, device, "idx", idx);
        on(op, device, "src", src);
        floating(op, "dst", dst);
        floating(op, "src", src);
        matrix(op, "src", src, idx.numel(), dst.shape().cols());
        writable(op, "dst", dst);
        values(op, "idx", idx, dst.shape().rows(), false);
    }

    /** {@link Backend#fill}. */
    public static void fill(Device device, Tensor x) {
        on("fill", device, "x", x);
        floating("fill", "x", x);
        writable("fill", "x", x);
    }

    /** {@link Backend#convert}: f32 or bf16 of the same shape. */
    public static void convert(Device device, Tensor src, Tensor dst) {
        String op = "convert";
        on(op, device, "src", src);
        on(op, device, "dst", dst);
        floating(op, "src", src);
        floating(op, "dst", dst);
        like(op, "dst", dst, "src", src);
        writable(op, "dst", dst);
    }

    /** {@link Backend#copy}: any type, both of one type and shape. */
    public static void copy(Device device, Tensor src, Tensor dst) {
        String op = "copy";
        on(op, device, "src", src);
        on(op, device, "dst", dst);
        sameType(op, "dst", dst, src);
        like(op, "dst", dst, "src", src);
        writable(op, "dst", dst);
    }

    /** {@link Backend#gatherGemm}: c (m x n) += alpha·x[:, idx]·op(f), xs (m x r) the gathered columns or null. */
    public static void gatherGemm(Device device, Tensor x, Tensor idx, Tensor f, boolean transF, Tensor c, Tensor xs) {
        String op = "gatherGemm";
        on(op, device, "x", x);
        indexList(op, device, "idx", idx);
        on(op, device, "f", f);
        on(op, device, "c", c);
        optional(op, device, "xs", xs);
        floating(op, "x", x);
        floating(op, "f", f);
        floating(op, "c", c);
        long m = x.shape().rows(), r = idx.numel(), n = c.shape().cols();
        if (f.rank() != 2) {
            throw new IllegalArgumentException(op + ": f must be a matrix, got " + f.describe());
        }
        matrix(op, "f", f, transF ? n : r, transF ? r : n);
        matrix(op, "c", c, m, n);
        writable(op, "c", c);
        if (xs != null) {
            sameType(op, "xs", xs, x);
            matrix(op, "xs", xs, m, r);
            writable(op, "xs", xs);
        }
        values(op, "idx", idx, x.shape().cols(), false);
    }

    /** {@link Backend#gemmScatter}: c[:, idx] += alpha·a (m x k)·op(f), idx distinct. */
    public static void gemmScatter(Device device, Tensor a, Tensor f, boolean transF, Tensor idx, Tensor c) {
        String op = "gemmScatter";
        on(op, device, "a", a);
        on(op, device, "f", f);
        indexList(op, device, "idx", idx);
        on(op, device, "c", c);
        floating(op, "a", a);
        floating(op, "f", f);
        floating(op, "c", c);
        long m = a.shape().rows(), k = a.shape().cols(), r = idx.numel();
        if (f.rank() != 2) {
            throw new IllegalArgumentException(op + ": f must be a matrix, got " + f.describe());
        }
        matrix(op, "f", f, transF ? r : k, transF ? k : r);
        if (c.shape().cols() > 0 ? c.shape().rows() != m : r > 0) {
            throw new IllegalArgumentException(op + ": c " + c.describe() + " has not the " + m + " rows of a");
        }
        writable(op, "c", c);
        values(op, "idx", idx, c.shape().cols(), true);
    }

    /** {@link Backend#add}, {@code sub}, {@code mul}, {@code div}: three tensors of one floating type and size. */
    public static void binary(Device device, String op, Tensor a, Tensor b, Tensor out) {
        on(op, device, "a", a);
        on(op, device, "b", b);
        on(op, device, "out", out);
        floating(op, "a", a);
        sameType(op, "b", b, a);
        sameType(op, "out", out, a);
        like(op, "b", b, "a", a);
        like(op, "out", out, "a", a);
        writable(op, "out", out);
    }

    /** {@link Backend#scale}: out = s·x, one floating type. */
    public static void scale(Device device, Tensor x, Tensor out) {
        String op = "scale";
        on(op, device, "x", x);
        on(op, device, "out", out);
        floating(op, "x", x);
        sameType(op, "out", out, x);
        like(op, "out", out, "x", x);
        writable(op, "out", out);
    }

    /** {@link Backend#axpy}: y += alpha·x, each f32 or bf16. */
    public static void axpy(Device device, Tensor x, Tensor y) {
        String op = "axpy";
        on(op, device, "x", x);
        on(op, device, "y", y);
        floating(op, "x", x);
        floating(op, "y", y);
        like(op, "x", x, "y", y);
        writable(op, "y", y);
    }

    /** {@link Backend#sum} and {@link Backend#countNonFinite}: f32 or bf16. */
    public static void reduce(Device device, String op, Tensor x) {
        on(op, device, "x", x);
        floating(op, "x", x);
    }

    /** {@link Backend#dot}: two f32 tensors of one size. */
    public static void dot(Device device, Tensor a, Tensor b) {
        String op = "dot";
        on(op, device, "a", a);
        on(op, device, "b", b);
        type(op, "a", a, DType.F32);
        type(op, "b", b, DType.F32);
        like(op, "b", b, "a", a);
    }

    /** {@link Backend#rowNorm}: out[i] = ‖x[i, :]‖, f32. */
    public static void rowNorm(Device device, Tensor x, Tensor out) {
        String op = "rowNorm";
        f32Operands(op, device, "x", x, "out", out);
        count(op, "out", out, x.shape().rows());
        writable(op, "out", out);
    }

    /** {@link Backend#scaleRows} ({@code byRows}) and {@link Backend#scaleCols}: f32. */
    public static void scaleRowsOrCols(Device device, boolean byRows, Tensor x, Tensor s, Tensor out) {
        String op = byRows ? "scaleRows" : "scaleCols";
        f32Operands(op, device, "x", x, "s", s, "out", out);
        count(op, "s", s, byRows ? x.shape().rows() : x.shape().cols());
        like(op, "out", out, "x", x);
        writable(op, "out", out);
    }

    /** {@link Backend#colDot}: out[j] = Σ_i a[i, j]·b[i, j], f32. */
    public static void colDot(Device device, Tensor a, Tensor b, Tensor out) {
        String op = "colDot";
        f32Operands(op, device, "a", a, "b", b, "out", out);
        like(op, "b", b, "a", a);
        count(op, "out", out, a.shape().cols());
        writable(op, "out", out);
    }

    /** {@link Backend#transpose}: out (cols x rows) = xᵀ, f32. */
    public static void transpose(Device device, Tensor x, Tensor out) {
        String op = "transpose";
        f32Operands(op, device, "x", x, "out", out);
        matrix(op, "out", out, x.shape().cols(), x.shape().rows());
        writable(op, "out", out);
    }

    /** {@link Backend#rmsNormForward}: f32; w of the row width, y like x, rstd one per row; eps >= 0. */
    public static void rmsNormForward(Device device, Tensor x, Tensor w, float eps, Tensor y, Tensor rstd) {
        String op = "rmsNormForward";
        f32Operands(op, device, "x", x, "w", w, "y", y, "rstd", rstd);
        normShapes(op, x, w, rstd);
        epsilon(op, eps);
        like(op, "y", y, "x", x);
        writable(op, "y", y);
        writable(op, "rstd", rstd);
    }

    /** {@link Backend#rmsNormBackward}: f32; dy (and dx) like x, dw like w; dx and dw may be null. */
    public static void rmsNormBackward(
            Device device, Tensor x, Tensor w, Tensor rstd, Tensor dy, Tensor dx, Tensor dw) {
        String op = "rmsNormBackward";
        f32Operands(op, device, "x", x, "w", w, "rstd", rstd, "dy", dy);
        normShapes(op, x, w, rstd);
        like(op, "dy", dy, "x", x);
        optionalLike(op, device, "dx", dx, "x", x);
        optionalLike(op, device, "dw", dw, "w", w);
    }

    /** {@link Backend#addRmsNormForward}: f32; delta, sum and y like x. */
    public static void addRmsNormForward(
            Device device, Tensor x, Tensor delta, Tensor w, float eps, Tensor sum, Tensor y, Tensor rstd) {
        String op = "addRmsNormForward";
        f32Operands(op, device, "x", x, "delta", delta, "w", w, "sum", sum, "y", y, "rstd", rstd);
        normShapes(op, x, w, rstd);
        epsilon(op, eps);
        like(op, "delta", delta, "x", x);
        like(op, "sum", sum, "x", x);
        like(op, "y", y, "x", x);
        writable(op, "sum", sum);
        writable(op, "y", y);
        writable(op, "rstd", rstd);
    }

    /** {@link Backend#addRmsNormBackward}: f32; dy, dsum and dx like sum, dw like w; dsum, dx, dw may be null. */
    public static void addRmsNormBackward(
            Device device, Tensor sum, Tensor w, Tensor rstd, Tensor dy, Tensor dsum, Tensor dx, Tensor dw) {
        String op = "addRmsNormBackward";
        f32Operands(op, device, "sum", sum, "w", w, "rstd", rstd, "dy", dy);
        normShapes(op, sum, w, rstd);
        like(op, "dy", dy, "sum", sum);
        if (dsum != null) {
            on(op, device, "dsum", dsum);
            type(op, "dsum", dsum, DType.F32);
            like(op, "dsum", dsum, "sum", sum);
        }
        optionalLike(op, device, "dx", dx, "sum", sum);
        optionalLike(op, device, "dw", dw, "w", w);
    }

    /**
     * {@link Backend#rope}: x and out (rows x heads·headDim, headDim even) f32, one i32 position per row in
     * [0, maxPos), cos and sin both maxPos x headDim/2.
     */
    public static void rope(Device device, Tensor x, int heads, Tensor positions, Tensor cos, Tensor sin, Tensor out) {
        String op = "rope";
        f32Operands(op, device, "x", x, "cos", cos, "sin", sin, "out", out);
        on(op, device, "positions", positions);
        type(op, "positions", positions, DType.I32);
        int width = x.shape().cols();
        if (heads < 1 || width % heads != 0 || width / heads < 2 || (width / heads) % 2 != 0) {
            throw new IllegalArgumentException(op + ": " + heads + " heads do not split the rows of " + x.describe()
                    + " into heads of an even width");
        }
        int half = width / heads / 2;
        count(op, "positions", positions, x.shape().rows());
        long maxPos = cos.numel() / half;
        matrix(op, "cos", cos, maxPos, half);
        like(op, "sin", sin, "cos", cos);
        like(op, "out", out, "x", x);
        writable(op, "out", out);
        values(op, "positions", positions, maxPos, false);
    }

    /** {@link Backend#siluMulForward}: g, u and out f32 of one size. */
    public static void siluMulForward(Device device, Tensor g, Tensor u, Tensor out) {
        String op = "siluMulForward";
        f32Operands(op, device, "g", g, "u", u, "out", out);
        like(op, "u", u, "g", g);
        like(op, "out", out, "g", g);
        writable(op, "out", out);
    }

    /** {@link Backend#siluMulBackward}: g, u, dout f32 of one size; dg, du like g or null. */
    public static void siluMulBackward(Device device, Tensor g, Tensor u, Tensor dout, Tensor dg, Tensor du) {
        String op = "siluMulBackward";
        f32Operands(op, device, "g", g, "u", u, "dout", dout);
        like(op, "u", u, "g", g);
        like(op, "dout", dout, "g", g);
        optionalLike(op, device, "dg", dg, "g", g);
        optionalLike(op, device, "du", du, "g", g);
    }

    /** {@link Backend#attentionForward}: q and out (tokens x heads·headDim), k and v (tokens x kvHeads·headDim). */
    public static void attentionForward(
            Device device, Tensor q, Tensor k, Tensor v, AttentionShape shape, Tensor out, Tensor lse) {
        String op = "attentionForward";
        f32Operands(op, device, "q", q, "k", k, "v", v, "out", out, "lse", lse);
        attentionShapes(op, q, k, v, shape, lse);
        matrix(op, "out", out, (long) shape.batch() * shape.seq(), (long) shape.heads() * shape.headDim());
        writable(op, "out", out);
        writable(op, "lse", lse);
    }

    /** {@link Backend#attentionBackward}: as the forward, with dout, dq like q and dk, dv like k. */
    public static void attentionBackward(
            Device device,
            Tensor q,
            Tensor k,
            Tensor v,
            Tensor out,
            Tensor lse,
            Tensor dout,
            AttentionShape shape,
            Tensor dq,
            Tensor dk,
            Tensor dv) {
        String op = "attentionBackward";
        f32Operands(
                op, device, "q", q, "k", k, "v", v, "out", out, "lse", lse, "dout", dout, "dq", dq, "dk", dk, "dv", dv);
        attentionShapes(op, q, k, v, shape, lse);
        like(op, "out", out, "q", q);
        like(op, "dout", dout, "q", q);
        like(op, "dq", dq, "q", q);
        like(op, "dk", dk, "k", k);
        like(op, "dv", dv, "k", k);
        writable(op, "dq", dq);
        writable(op, "dk", dk);
        writable(op, "dv", dv);
    }

    /**
     * {@link Backend#cachedAttention}: q and out (batch·T x heads·headDim), the caches (batch·maxLen x
     * kvHeads·headDim, maxLen >= T), past (i32, one per sequence, in [0, maxLen - T] where it is in host memory)
     * and a window >= 0.
     */
    public static void cachedAttention(
            Device device,
            Tensor q,
            Tensor kCache,
            Tensor vCache,
            Tensor past,
            AttentionShape shape,
            int window,
            Tensor out) {
        String op = "cachedAttention";
        f32Operands(op, device, "q", q, "kCache", kCache, "vCache", vCache, "out", out);
        Objects.requireNonNull(shape, op + ": shape is null");
        indexList(op, device, "past", past);
        count(op, "past", past, shape.batch());
        matrix(op, "q", q, (long) shape.batch() * shape.seq(), (long) shape.heads() * shape.headDim());
        long kw = (long) shape.kvHeads() * shape.headDim();
        long rows = kCache.shape().rows();
        if (shape.batch() > 0 && (rows % shape.batch() != 0 || rows / shape.batch() < shape.seq())) {
            throw new IllegalArgumentException(op + ": kCache " + kCache.describe() + " does not hold " + shape.batch()
                    + " sequences of at least " + shape.seq() + " rows");
        }
        long maxLen = shape.batch() == 0 ? 0 : rows / shape.batch();
        matrix(op, "kCache", kCache, rows, kw);
        like(op, "vCache", vCache, "kCache", kCache);
        like(op, "out", out, "q", q);
        writable(op, "out", out);
        if (window < 0) {
            throw new IllegalArgumentException(op + ": window must be >= 0, got " + window);
        }
        if (shape.batch() > 0) {
            values(op, "past", past, maxLen - shape.seq() + 1, false);
        }
    }

    /** {@link Backend#crossEntropyForward}: logits rows x vocab f32, one i32 target, loss and lse per row. */
    public static void crossEntropyForward(
            Device device, Tensor logits, Tensor targets, int ignoreIndex, Tensor loss, Tensor lse) {
        String op = "crossEntropyForward";
        f32Operands(op, device, "logits", logits, "loss", loss, "lse", lse);
        crossEntropyShapes(op, device, logits, targets, ignoreIndex, lse);
        count(op, "loss", loss, logits.shape().rows());
        writable(op, "loss", loss);
        writable(op, "lse", lse);
    }

    /** {@link Backend#crossEntropyBackward}: dlogits like logits (it may be logits). */
    public static void crossEntropyBackward(
            Device device, Tensor logits, Tensor targets, Tensor lse, int ignoreIndex, Tensor dlogits) {
        String op = "crossEntropyBackward";
        f32Operands(op, device, "logits", logits, "lse", lse, "dlogits", dlogits);
        crossEntropyShapes(op, device, logits, targets, ignoreIndex, lse);
        like(op, "dlogits", dlogits, "logits", logits);
        writable(op, "dlogits", dlogits);
    }

    /** {@link Backend#crossEntropyForwardBackward}: the forward's and the backward's arguments together. */
    public static void crossEntropyForwardBackward(
            Device device, Tensor logits, Tensor targets, int ignoreIndex, Tensor loss, Tensor lse, Tensor dlogits) {
        String op = "crossEntropyForwardBackward";
        f32Operands(op, device, "logits", logits, "loss", loss, "lse", lse, "dlogits", dlogits);
        crossEntropyShapes(op, device, logits, targets, ignoreIndex, lse);
        count(op, "loss", loss, logits.shape().rows());
        like(op, "dlogits", dlogits, "logits", logits);
        writable(op, "loss", loss);
        writable(op, "lse", lse);
        writable(op, "dlogits", dlogits);
    }

    /** {@link Backend#nf4Quantize}: f32 x, an even block, packed u8 (two codes per byte), one absmax per block. */
    public static void nf4Quantize(Device device, Tensor x, int block, Tensor packed, Tensor absmax) {
        String op = "nf4Quantize";
        f32Operands(op, device, "x", x, "absmax", absmax);
        on(op, device, "packed", packed);
        type(op, "packed", packed, DType.U8);
        nf4Block(op, block);
        long n = x.numel();
        count(op, "packed", packed, (n + 1) / 2);
        count(op, "absmax", absmax, (n + block - 1) / block);
        writable(op, "packed", packed);
        writable(op, "absmax", absmax);
    }

    /** {@link Backend#nf4Dequantize}: elements [start, start + out.numel()) must lie in packed and absmax. */
    public static void nf4Dequantize(Device device, Tensor packed, Tensor absmax, long start, int block, Tensor out) {
        String op = "nf4Dequantize";
        f32Operands(op, device, "absmax", absmax, "out", out);
        on(op, device, "packed", packed);
        type(op, "packed", packed, DType.U8);
        nf4Block(op, block);
        long end = start + out.numel();
        if (start < 0 || end < start || end > 2 * packed.numel()) {
            throw new IllegalArgumentException(op + ": elements [" + start + ", " + end + ") do not lie in the "
                    + 2 * packed.numel() + " codes of packed");
        }
        long blocks = end == 0 ? 0 : (end - 1) / block + 1;
        if (absmax.numel() < blocks) {
            throw new IllegalArgumentException(op + ": absmax " + absmax.describe() + " has fewer than the " + blocks
                    + " scales elements [" + start + ", " + end + ") need");
        }
        writable(op, "out", out);
    }

    /** {@link Backend#adamwStep}: p, g, m, v f32 of one size; p, m, v written. */
    public static void adamwStep(Device device, Tensor p, Tensor g, Tensor m, Tensor v, AdamWStep step) {
        String op = "adamwStep";
        f32Operands(op, device, "p", p, "g", g, "m", m, "v", v);
        Objects.requireNonNull(step, "adamwStep: step is null");
        like(op, "g", g, "p", p);
        like(op, "m", m, "p", p);
        like(op, "v", v, "p", p);
        writable(op, "p", p);
        writable(op, "m", m);
        writable(op, "v", v);
        if (!(step.biasCorrection2Sqrt() > 0)) {
            throw new IllegalArgumentException(
                    op + ": the bias correction " + step.biasCorrection2Sqrt() + " must be positive");
        }
    }

    // ---------------------------------------------------------------- shared parts

    /** Pairs of (name, tensor): each present, on the device, f32. */
    private static void f32Operands(String op, Device device, Object... namesAndTensors) {
        for (int i = 0; i < namesAndTensors.length; i += 2) {
            String name = (String) namesAndTensors[i];
            Tensor t = on(op, device, name, (Tensor) namesAndTensors[i + 1]);
            type(op, name, t, DType.F32);
        }
    }

    private static void optionalLike(String op, Device device, String name, Tensor t, String likeName, Tensor like) {
        if (t != null) {
            on(op, device, name, t);
            type(op, name, t, DType.F32);
            like(op, name, t, likeName, like);
            writable(op, name, t);
        }
    }

    private static void normShapes(String op, Tensor x, Tensor w, Tensor rstd) {
        count(op, "w", w, x.shape().cols());
        count(op, "rstd", rstd, x.shape().rows());
    }

    private static void epsilon(String op, float eps) {
        if (!(eps >= 0) || !Float.isFinite(eps)) {
            throw new IllegalArgumentException(op + ": eps must be finite and >= 0, got " + eps);
        }
    }

    private static void attentionShapes(String op, Tensor q, Tensor k, Tensor v, AttentionShape s, Tensor lse) {
        Objects.requireNonNull(s, op + ": shape is null");
        long tokens = (long) s.batch() * s.seq();
        matrix(op, "q", q, tokens, (long) s.heads() * s.headDim());
        matrix(op, "k", k, tokens, (long) s.kvHeads() * s.headDim());
        like(op, "v", v, "k", k);
        count(op, "lse", lse, tokens * s.heads());
    }

    private static void crossEntropyShapes(
            String op, Device device, Tensor logits, Tensor targets, int ignoreIndex, Tensor lse) {
        on(op, device, "targets", targets);
        type(op, "targets", targets, DType.I32);
        long rows = logits.shape().rows();
        count(op, "targets", targets, rows);
        count(op, "lse", lse, rows);
        targets(op, targets, logits.shape().cols(), ignoreIndex);
    }

    private static void nf4Block(String op, int block) {
        if (block < 2 || block % 2 != 0) {
            throw new IllegalArgumentException(op + ": block " + block + " must be even and positive");
        }
    }
}
