package io.sbora4j.backend;

import io.sbora4j.tensor.Device;
import io.sbora4j.tensor.Tensor;

/**
 * The kernel contract: everything the ops, adapters and optimizers compute goes through one of these methods.
 * Implementations come from {@link BackendProvider}s: {@code reference} (plain Java, the test oracle, built in),
 * {@code cpu} (OpenBLAS + C kernels through Panama, module {@code io.sbora4j.cpu}) and {@code cuda} (CUDA kernels +
 * cuBLAS, module {@code io.sbora4j.cuda}).
 *
 * <p>Tensors are contiguous and row-major. Every implementation checks its arguments against this contract before it
 * computes, with the {@link KernelChecks} method of the same name (devices, types, sizes, writable outputs, index
 * values in host memory), so that a wrong argument is an exception ({@link IllegalArgumentException}, or
 * {@link IndexOutOfBoundsException} for an index value out of range), never a kernel reading or writing past a
 * tensor's memory.
 *
 * <p><b>Mixed precision.</b> The methods marked "f32 or bf16" also take {@link io.sbora4j.tensor.DType#BF16}
 * tensors: they compute in f32 and round once per stored element. In {@link #gemm} (and the two fused SBoRA
 * GEMMs) a and b may differ in type: the f32 operand (a trained factor, the master weight) is then rounded to bf16,
 * so that the product is bf16 times bf16, accumulated in f32, and stored in c's type. Every other method is f32
 * only.
 * A "matrix" view of a tensor is {@code rows() x cols()} of its shape: the last dimension is the row.
 * Outputs may alias inputs for the elementwise methods only, and where a method says so.
 *
 * <p>Some methods have a default composed of the others: a fused form of work the ops could also do in several
 * calls. A backend overrides them with one kernel where that saves passes over memory; the defaults give the same
 * results (the reference backend, the oracle, keeps them).
 */
public interface Backend {

    /** The device this backend computes on. */
    Device device();

    /**
     * {@code c = alpha * op(a) * op(b) + beta * c} with op = transpose where asked; c is not read when beta is 0.
     * f32 or bf16, see the mixed-precision note above.
     */
    void gemm(boolean transA, boolean transB, float alpha, Tensor a, Tensor b, float beta, Tensor c);

    /** {@code out[t, j] = x[t, idx[j]]} (x: rows x cols, out: rows x r); f32 or bf16 (one type). */
    void gatherCols(Tensor x, Tensor idx, Tensor out);

    /** {@code out[j, :] = x[idx[j], :]} (x: rows x cols, out: r x cols); f32 or bf16 (one type). */
    void gatherRows(Tensor x, Tensor idx, Tensor out);

    /**
     * {@code dst[t, idx[j]] += alpha * src[t, j]}: scatter-add into columns (the SBoRA-FA merge with alpha = s).
     * Indices must be distinct. f32 or bf16, dst and src each of its own type.
     */
    void indexAddCols(Tensor dst, Tensor idx, Tensor src, float alpha);

    /**
     * {@code dst[idx[j], :] += alpha * src[j, :]}: scatter-add into rows (the SBoRA-FB merge with alpha = s).
     * Repeated indices accumulate (the embedding backward). f32 or bf16, dst and src each of its own type.
     */
    void indexAddRows(Tensor dst, Tensor idx, Tensor src, float alpha);

    /** f32 or bf16. */
    void fill(Tensor x, float value);

    /** {@code dst = src} converted to dst's type: f32 to bf16 rounds to nearest even, bf16 to f32 is exact. */
    void convert(Tensor src, Tensor dst);

    // ---------------------------------------------------------------- SBoRA GEMMs

    /**
     * {@code c += alpha * x[:, idx] * op(f)}: the SBoRA gather GEMM, {@code op(f) = fᵀ} (f: n x r, SBoRA-FA's B)
     * when {@code transF}, else f (r x n, SBoRA-FB's A). When {@code xs} is not null it also receives
     * {@code x[:, idx]} (rows x r, x's type), what a backward pass keeps. x and c f32 or bf16, f f32. Each backend
     * picks its order (one fused kernel, or a gather then a GEMM: {@link UnfusedSboraGemms}) by
     * {@link BackendOptions#sboraGemms()} and shape.
     */
    void gatherGemm(Tensor x, Tensor idx, Tensor f, boolean transF, float alpha, Tensor c, Tensor xs);

    /**
     * {@code c[:, idx] += alpha * a * op(f)}: the SBoRA scatter GEMM, {@code op(f) = fᵀ} (f: r x k, SBoRA-FB's A)
     * when {@code transF}, else f (k x r, SBoRA-FA's B); idx distinct. a and c f32 or bf16, f f32.
     */
    void gemmScatter(Tensor a, Tensor f, boolean transF, Tensor idx, float alpha, Tensor c);

    /** {@code dst = src} (same shape and type; any type). */
    void copy(Tensor src, Tensor dst);

    /** f32 or bf16, all three of one type (likewise sub, mul, div). */
    void add(Tensor a, Tensor b, Tensor out);

    void sub(Tensor a, Tensor b, Tensor out);

    void mul(Tensor a, Tensor b, Tensor out);

    void div(Tensor a, Tensor b, Tensor out);

    /** {@code out = s * x}; f32 or bf16 (one type). */
    void scale(Tensor x, float s, Tensor out);

    /** {@code y += alpha * x}; f32 or bf16, x and y each of its own type. */
    void axpy(float alpha, Tensor x, Tensor y);

    /** Sum of all elements, accumulated in double; f32 or bf16. */
    double sum(Tensor x);

    /** Sum of {@code a[i] * b[i]}, accumulated in double. */
    double dot(Tensor a, Tensor b);

    /** Number of NaN or infinite elements; f32 or bf16. */
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
     * (the backward pass). {@code out} may be {@code x}: the rotation in place.
     */
    void rope(Tensor x, int heads, Tensor positions, Tensor cos, Tensor sin, float sign, Tensor out);

    /** {@code out = silu(g)·u}. */
    void siluMulForward(Tensor g, Tensor u, Tensor out);

    /** Gradients of {@link #siluMulForward}; {@code dg} or {@code du} may be null. */
    void siluMulBackward(Tensor g, Tensor u, Tensor dout, Tensor dg, Tensor du);

    /** Causal grouped-query attention; {@code lse} (batch x heads x seq) keeps each softmax row's log-sum-exp. */
    void attentionForward(Tensor q, Tensor k, Tensor v, AttentionShape shape, Tensor out, Tensor lse);

    /** Gradients of {@link #attentionForward}; dq, dk and dv are overwritten. */
    void attentionBackward(
            Tensor q,
            Tensor k,
            Tensor v,
            Tensor out,
            Tensor lse,
            Tensor dout,
            AttentionShape shape,
            Tensor dq,
            Tensor dk,
            Tensor dv);

    /**
     * Attention of {@code shape.seq()} = T new tokens per sequence against a key/value cache, for inference (no
     * backward). q and out: (batch·T) x (heads·headDim); kCache and vCache: (batch·maxLen) x (kvHeads·headDim),
     * sequence b's keys and values (after RoPE) at rows {@code b·maxLen + position}, those of the new tokens
     * included; past (i32, batch): the tokens each sequence held before the new ones, in
     * {@code [0, maxLen - T]}. New token t of sequence b is at position {@code p = past[b] + t} and attends the keys
     * at positions {@code max(0, p - window + 1) .. p} of its sequence ({@code window} 0: {@code 0 .. p}); query
     * head h reads kv head {@code h / (heads / kvHeads)}. f32 only.
     */
    void cachedAttention(
            Tensor q, Tensor kCache, Tensor vCache, Tensor past, AttentionShape shape, int window, Tensor out);

    /** Per-row softmax cross-entropy against i32 targets; 0 where the target is {@code ignoreIndex}. */
    void crossEntropyForward(Tensor logits, Tensor targets, int ignoreIndex, Tensor loss, Tensor lse);

    /**
     * {@code dlogits = scale·(softmax - onehot)}, zero rows where the target is {@code ignoreIndex}; {@code dlogits}
     * may be {@code logits} (the gradient overwrites the logits it came from).
     */
    void crossEntropyBackward(Tensor logits, Tensor targets, Tensor lse, int ignoreIndex, float scale, Tensor dlogits);

    // ---------------------------------------------------------------- fused layers (defaults composed of the above)

    /**
     * The residual add of a block and the RMSNorm after it: {@code sum = x + delta}, then
     * {@link #rmsNormForward}{@code (sum, w, eps, y, rstd)}; {@code sum} may alias x or delta. The default makes two
     * passes; a fused kernel reads x and delta once and writes sum and y once.
     */
    default void addRmsNormForward(Tensor x, Tensor delta, Tensor w, float eps, Tensor sum, Tensor y, Tensor rstd) {
        add(x, delta, sum);
        rmsNormForward(sum, w, eps, y, rstd);
    }

    /**
     * Gradients of {@link #addRmsNormForward} given {@code dy} (of y) and {@code dsum}, the gradient reaching sum
     * from its other uses (the next residual): {@code dx = dsum + ∂(norm)/∂sum·dy}, which x and delta both receive,
     * and {@code dw} as {@link #rmsNormBackward}. {@code dsum}, {@code dx} or {@code dw} may be null; the default
     * adds dsum in a second pass.
     */
    default void addRmsNormBackward(Tensor sum, Tensor w, Tensor rstd, Tensor dy, Tensor dsum, Tensor dx, Tensor dw) {
        rmsNormBackward(sum, w, rstd, dy, dx, dw);
        if (dsum != null && dx != null) {
            add(dx, dsum, dx);
        }
    }

    /**
     * {@link #crossEntropyForward} and {@link #crossEntropyBackward} (with the lse just computed) in one call:
     * {@code loss}, {@code lse} and {@code dlogits = scale·(softmax - onehot)}; {@code dlogits} may be
     * {@code logits}. The default makes the two calls; a fused kernel reads each row once more while it is in cache.
     */
    default void crossEntropyForwardBackward(
            Tensor logits, Tensor targets, int ignoreIndex, float scale, Tensor loss, Tensor lse, Tensor dlogits) {
        crossEntropyForward(logits, targets, ignoreIndex, loss, lse);
        crossEntropyBackward(logits, targets, lse, ignoreIndex, scale, dlogits);
    }

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

    /**
     * Waits until every call made so far has finished (a no-op where calls are synchronous): what a timing must
     * end with on an asynchronous device.
     */
    default void synchronize() {}

    /** A one-line description for {@code sbora info}. */
    String describe();
}
