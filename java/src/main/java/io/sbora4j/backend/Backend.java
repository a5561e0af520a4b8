package io.sbora4j.backend;

import io.sbora4j.tensor.Device;
import io.sbora4j.tensor.Tensor;

/**
 * The kernel contract: everything the ops, adapters and optimizers compute goes through one of these methods.
 * Implementations: {@code cpu} (OpenBLAS + C kernels through Panama), {@code reference} (plain Java, the test
 * oracle), and later {@code cuda}.
 *
 * <p>Callers (the ops layer) have checked shapes, types and devices; implementations may assume contiguous
 * row-major f32 tensors (i32 for indices) of consistent sizes, and in-range index values (distinct where a method
 * says so).
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

    /**
     * {@code dst[t, idx[j]] += alpha * src[t, j]}: scatter-add into columns (the SBoRA-FA merge with alpha = s).
     * Indices must be distinct.
     */
    void indexAddCols(Tensor dst, Tensor idx, Tensor src, float alpha);

    /**
     * {@code dst[idx[j], :] += alpha * src[j, :]}: scatter-add into rows (the SBoRA-FB merge with alpha = s).
     * Repeated indices accumulate (the embedding backward).
     */
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

    // ---------------------------------------------------------------- transformer layers

    /** RMSNorm of each row: {@code rstd[i] = 1/√(mean(x[i]²) + eps)}, {@code y[i, j] = w[j]·(x[i, j]·rstd[i])}. */
    void rmsNormForward(Tensor x, Tensor w, float eps, Tensor y, Tensor rstd);

    /** Gradients of {@link #rmsNormForward} from dy; {@code dx} or {@code dw} may be null when not needed. */
    void rmsNormBackward(Tensor x, Tensor w, Tensor rstd, Tensor dy, Tensor dx, Tensor dw);

    /**
     * Rotary embedding (HF rotate_half) of every head of every row of x (rows x heads·headDim) by the angle of the
     * row's position; {@code cos} and {@code sin} are tables (maxPos x headDim/2); {@code sign = -1} rotates back
     * (the backward pass).
     */
    void rope(Tensor x, int heads, Tensor positions, Tensor cos, Tensor sin, float sign, Tensor out);

    /** {@code out = silu(g)·u}. */
    void siluMulForward(Tensor g, Tensor u, Tensor out);

    /** Gradients of {@link #siluMulForward}; {@code dg} or {@code du} may be null. */
    void siluMulBackward(Tensor g, Tensor u, Tensor dout, Tensor dg, Tensor du);

    /** Causal grouped-query attention; {@code lse} (batch x heads x seq) keeps each softmax row's log-sum-exp. */
    void attentionForward(Tensor q, Tensor k, Tensor v, AttentionShape shape, Tensor out, Tensor lse);

    /** Gradients of {@link #attentionForward}; dq, dk and dv are overwritten. */
    void attentionBackward(Tensor q, Tensor k, Tensor v, Tensor out, Tensor lse, Tensor dout, AttentionShape shape,
                           Tensor dq, Tensor dk, Tensor dv);

    /** Per-row softmax cross-entropy against i32 targets; 0 where the target is {@code ignoreIndex}. */
    void crossEntropyForward(Tensor logits, Tensor targets, int ignoreIndex, Tensor loss, Tensor lse);

    /** {@code dlogits = scale·(softmax - onehot)}, zero rows where the target is {@code ignoreIndex}. */
    void crossEntropyBackward(Tensor logits, Tensor targets, Tensor lse, int ignoreIndex, float scale,
                              Tensor dlogits);

    // ---------------------------------------------------------------- NF4

    /**
     * NF4-quantises f32 {@code x} in blocks of {@code block} elements: {@code absmax} (f32, one per block) and
     * {@code packed} (u8, two 4-bit codes per byte, the even element in the high nibble).
     */
    void nf4Quantize(Tensor x, int block, Tensor packed, Tensor absmax);

    /** Dequantises elements {@code [start, start + out.numel())} of an NF4 tensor into f32 {@code out}. */
    void nf4Dequantize(Tensor packed, Tensor absmax, long start, int block, Tensor out);

    /** One fused AdamW update of {@code p} with gradient {@code g} and moments {@code m}, {@code v}. */
    void adamwStep(Tensor p, Tensor g, Tensor m, Tensor v, AdamWStep step);

    /** Threads the backend's kernels may use (ignored where meaningless). */
    default void setThreads(int threads) {}

    /** A one-line description for {@code sbora info}. */
    String describe();
}
