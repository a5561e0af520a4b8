package io.sbora4j.backend;

import io.sbora4j.tensor.Device;
import io.sbora4j.tensor.Tensor;

/**
 * The kernel contract: everything the ops, adapters and optimizers compute goes through one of these methods.
 * Implementations: {@code cpu} (OpenBLAS + C kernels through Panama), {@code reference} (plain Java, the test
 * oracle), and later {@code cuda}.
 *
 * <p>Callers (the ops layer) have checked shapes, types and devices; implementations may assume contiguous
 * row-major f32 tensors (i32 for indices) of consistent sizes, and that index lists hold distinct, in-range values.
 * A "matrix" view of a tensor is {@code rows() x cols()} of its shape: the last dimension is the row.
 * Outputs may alias inputs for the elementwise methods only.
 */
public interface Backend {

    /** The device this backend computes on. */
    Device device();

    /** {@code c = alpha * op(a) * op(b) + beta * c} with op = transpose where asked; c is not read when beta is 0. */
    void gemm(boolean transA, boolean transB, float alpha, Tensor a, Tensor b, float beta, Tensor c);

    /** {@code out[t, j] = x[t, idx[j]]} (x: rows x cols, out: rows x r). */
    void gatherCols(Tensor x, Tensor idx, Tensor out);

    /** {@code out[j, :] = x[idx[j], :]} (x: rows x cols, out: r x cols). */
    void gatherRows(Tensor x, Tensor idx, Tensor out);

    /** {@code dst[t, idx[j]] += alpha * src[t, j]}: scatter-add into columns (the SBoRA-FA merge with alpha = s). */
    void indexAddCols(Tensor dst, Tensor idx, Tensor src, float alpha);

    /** {@code dst[idx[j], :] += alpha * src[j, :]}: scatter-add into rows (the SBoRA-FB merge with alpha = s). */
    void indexAddRows(Tensor dst, Tensor idx, Tensor src, float alpha);

    void fill(Tensor x, float value);

    /** {@code dst = src} (same shape). */
    void copy(Tensor src, Tensor dst);

    void add(Tensor a, Tensor b, Tensor out);

    void sub(Tensor a, Tensor b, Tensor out);

    void mul(Tensor a, Tensor b, Tensor out);

    void div(Tensor a, Tensor b, Tensor out);

    /** {@code out = s * x}. */
    void scale(Tensor x, float s, Tensor out);

    /** {@code y += alpha * x}. */
    void axpy(float alpha, Tensor x, Tensor y);

    /** Sum of all elements, accumulated in double. */
    double sum(Tensor x);

    /** Sum of {@code a[i] * b[i]}, accumulated in double. */
    double dot(Tensor a, Tensor b);

    /** Number of NaN or infinite elements. */
    long countNonFinite(Tensor x);

    /** {@code out[i] = ||x[i, :]||} (Euclidean norm of each row). */
    void rowNorm(Tensor x, Tensor out);

    /** {@code out[i, j] = x[i, j] * s[i]}. */
    void scaleRows(Tensor x, Tensor s, Tensor out);

    /** {@code out[i, j] = x[i, j] * s[j]}. */
    void scaleCols(Tensor x, Tensor s, Tensor out);

    /** {@code out[j] = sum_i a[i, j] * b[i, j]}. */
    void colDot(Tensor a, Tensor b, Tensor out);

    /** {@code out = x^T} for a matrix x. */
    void transpose(Tensor x, Tensor out);

    /** One fused AdamW update of {@code p} with gradient {@code g} and moments {@code m}, {@code v}. */
    void adamwStep(Tensor p, Tensor g, Tensor m, Tensor v, AdamWStep step);

    /** Threads the backend's kernels may use (ignored where meaningless). */
    default void setThreads(int threads) {}

    /** A one-line description for {@code sbora info}. */
    String describe();
}
