/*
 * sbora_native.h - the whole C API of the CPU kernels of sbora4j.
 *
 * Rules of this boundary (see docs/ARCHITECTURE.md):
 *  - plain C functions; the only state is the calling thread's thread count and the registered CBLAS sgemm below;
 *  - sizes are int64_t, tensors are float* (f32) or int32_t* (indices), row-major, with explicit leading
 *    dimensions (the distance in elements between consecutive rows) where a kernel reads a 2-D operand;
 *  - every function returns an sb_status (0 = ok); results come back through pointers;
 *  - kernels never allocate.
 *
 * The Java bindings in io.sbora4j.ffi.sbora_native_h mirror this file one to one; a test parses this header and
 * compares it with them, so edit both together.
 */
#ifndef SBORA_NATIVE_H
#define SBORA_NATIVE_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__)
#define SB_API __attribute__((visibility("default")))
#else
#define SB_API
#endif

/* Status codes returned by every function. */
#define SB_OK 0
#define SB_ERR_ARG 1   /* a null pointer, a negative size or a leading dimension smaller than the row */
#define SB_ERR_INDEX 2 /* an index outside [0, dimension) */

/* Threads used by the kernels (OpenMP) and sb_sgemm called from the calling thread: the count belongs to that
 * thread, so callers with different counts do not disturb each other. n <= 0 restores the default (all cores, or
 * OMP_NUM_THREADS). */
SB_API int sb_set_num_threads(int n);
SB_API int sb_get_num_threads(int *out);

/* GEMM on the kernels' threads. sb_set_blas_sgemm registers the CBLAS cblas_sgemm to call (once, before any
 * sb_sgemm; it should run single-threaded: OpenBLAS with one thread); sb_sgemm computes the row-major
 * c = alpha * op(a) * op(b) + beta * c, op transposing where trans_* is non-zero (m x n result, k the inner
 * dimension, leading dimensions as CBLAS), by calling it once per thread on a tile of c: bands of rows or columns on
 * two threads, a grid on more. Sizes and leading dimensions must fit in an int. */
SB_API int sb_set_blas_sgemm(void *cblas_sgemm);
SB_API int sb_sgemm(int trans_a, int trans_b, int64_t m, int64_t n, int64_t k, float alpha, const float *a,
                    int64_t lda, const float *b, int64_t ldb, float beta, float *c, int64_t ldc);

/* out[t, j] = x[t, idx[j]] for t < rows, j < r; x is rows x cols. The SBoRA-FA gather x[:, idx]. */
SB_API int sb_gather_cols(const float *x, int64_t rows, int64_t cols, int64_t ldx, const int32_t *idx, int64_t r,
                          float *out, int64_t ldo);
/* out[j, :] = x[idx[j], :] for j < r; x is rows x cols. */
SB_API int sb_gather_rows(const float *x, int64_t rows, int64_t cols, int64_t ldx, const int32_t *idx, int64_t r,
                          float *out, int64_t ldo);
/* dst[t, idx[j]] += alpha * src[t, j]; dst is rows x cols, src rows x r. Indices must be distinct.
 * With dst = W (out x in), src = B and alpha = +-s this is the SBoRA-FA merge / unmerge W[:, idx] +-= s*B. */
SB_API int sb_index_add_cols(float *dst, int64_t rows, int64_t cols, int64_t ldd, const int32_t *idx, int64_t r,
                             const float *src, int64_t lds, float alpha);
/* dst[idx[j], :] += alpha * src[j, :]; dst is rows x cols, src r x cols. Repeated indices accumulate (the
 * embedding backward relies on it).
 * With dst = W, src = A and alpha = +-s this is the SBoRA-FB merge / unmerge W[idx, :] +-= s*A. */
SB_API int sb_index_add_rows(float *dst, int64_t rows, int64_t cols, int64_t ldd, const int32_t *idx, int64_t r,
                             const float *src, int64_t lds, float alpha);

/* Fused SBoRA GEMMs: the gather (or scatter) of a standard-basis factor done inside the GEMM, so that x[:, idx] and
 * the T x r product of the backward need not be written out between two calls (the CPU twins of sbc_gather_gemm and
 * sbc_gemm_scatter). Sums are in f32 with fused multiply-adds, in another order than cblas_sgemm's: results agree
 * with a GEMM within rounding, not bit for bit. c is read, added to and written once per element (sb_gather_gemm:
 * once per 64 of r). Indices must lie in [0, ldx) (gather) or [0, ldc) (scatter), else SB_ERR_INDEX; that they lie
 * within the columns of x or c is the caller's to ensure when the leading dimension is larger. They use up to about
 * 130 KiB of stack per thread (the caller's included).
 *
 * c[i, j] += alpha * sum_k x[i, idx[k]] * F(k, j)        for i < m, j < n, k < r
 *   F(k, j) = f[j * ldf + k] if trans_f (f is n x r: SBoRA-FA's B, the forward y += s * x[:, idx] * B^T),
 *             f[k * ldf + j] otherwise (f is r x n: SBoRA-FB's A, the backward dx += s * dy[:, idx] * A).
 *   If xs is not NULL it also receives x[:, idx] (m x r, leading dimension ldxs), what SBoRA-FA's backward keeps
 *   (written even when n == 0). */
SB_API int sb_gather_gemm(const float *x, int64_t m, int64_t ldx, const int32_t *idx, int64_t r, const float *f,
                          int64_t ldf, int trans_f, int64_t n, float alpha, float *c, int64_t ldc, float *xs,
                          int64_t ldxs);
/* c[i, idx[j]] += alpha * sum_k a[i, k] * F(k, j)         for i < m, j < r, k < kdim; idx distinct
 *   F(k, j) = f[j * ldf + k] if trans_f (f is r x kdim: SBoRA-FB's A, the forward y[:, idx] += s * x * A^T),
 *             f[k * ldf + j] otherwise (f is kdim x r: SBoRA-FA's B, the backward dx[:, idx] += s * dy * B).
 *   Columns of c outside idx are not touched. */
SB_API int sb_gemm_scatter(const float *a, int64_t m, int64_t kdim, int64_t lda, const float *f, int64_t ldf,
                           int trans_f, const int32_t *idx, int64_t r, float alpha, float *c, int64_t ldc);

/* c[j, k] = alpha * sum_i a[i, j] * b[i, k]   for j < n, k < r, i < m: c (n x r) = alpha * a^T * b, overwritten;
 * a is m x n, b m x r with r small. The weight gradient of a thin adapter factor, SBoRA-FA's dB = s * dy^T * x[:, idx]
 * (a = dy, b = the xs kept by sb_gather_gemm), where cblas_sgemm is weakest (r = 16: about half its usual speed).
 * Sums in f32 with fused multiply-adds, blocked over i (c is rewritten once per 256 rows of a). */
SB_API int sb_gemm_tn_small(const float *a, int64_t m, int64_t n, int64_t lda, const float *b, int64_t r,
                            int64_t ldb, float alpha, float *c, int64_t ldc);

/* Elementwise over n contiguous floats; out may alias an input. */
SB_API int sb_fill(float *x, int64_t n, float value);
SB_API int sb_add(const float *a, const float *b, int64_t n, float *out);
SB_API int sb_sub(const float *a, const float *b, int64_t n, float *out);
SB_API int sb_mul(const float *a, const float *b, int64_t n, float *out);
SB_API int sb_div(const float *a, const float *b, int64_t n, float *out);
SB_API int sb_scale(const float *x, int64_t n, float s, float *out);
/* y += alpha * x */
SB_API int sb_axpy(int64_t n, float alpha, const float *x, float *y);

/* Reductions, accumulated in double. */
SB_API int sb_sum(const float *x, int64_t n, double *out);
SB_API int sb_dot(const float *a, const float *b, int64_t n, double *out);
/* Number of NaN or infinite elements. */
SB_API int sb_count_nonfinite(const float *x, int64_t n, int64_t *out);

/* Row and column operations on a contiguous rows x cols matrix. */
SB_API int sb_row_norm(const float *x, int64_t rows, int64_t cols, float *out);                /* out[i] = ||x[i,:]|| */
SB_API int sb_scale_rows(const float *x, int64_t rows, int64_t cols, const float *s, float *out); /* x[i,j]*s[i] */
SB_API int sb_scale_cols(const float *x, int64_t rows, int64_t cols, const float *s, float *out); /* x[i,j]*s[j] */
SB_API int sb_col_dot(const float *a, const float *b, int64_t rows, int64_t cols, float *out);  /* sum_i a[i,j]b[i,j] */
SB_API int sb_transpose(const float *x, int64_t rows, int64_t cols, float *out);               /* out = x^T */

/* ---- Transformer layers (LLaMA). Rows are tokens; a row of q, k, v holds all heads, head after head. ---- */

/* RMSNorm: rstd[i] = 1/sqrt(mean_j x[i,j]^2 + eps); y[i,j] = w[j] * (x[i,j] * rstd[i]) (HF LlamaRMSNorm). */
SB_API int sb_rmsnorm_forward(const float *x, const float *w, int64_t rows, int64_t n, float eps, float *y,
                              float *rstd);
/* Given dy: dx[i,:] = rstd*(dy*w - xhat*mean(dy*w*xhat)) with xhat = x*rstd; dw[j] = sum_i dy[i,j]*xhat[i,j].
 * dx or dw may be NULL when not wanted. */
SB_API int sb_rmsnorm_backward(const float *x, const float *w, const float *rstd, const float *dy, int64_t rows,
                               int64_t n, float *dx, float *dw);
/* Rotary embedding in HF's rotate_half convention, for every head of every row: with h = head_dim/2 and
 * c = cos_table[pos*h + j], s = sin_table[pos*h + j] (pos = positions[row]):
 *   out[j] = x[j]*c - x[j+h]*s*sign;  out[j+h] = x[j+h]*c + x[j]*s*sign     (sign = -1 undoes the rotation)
 * The tables have max_pos rows; positions must lie in [0, max_pos). out may alias x (rotation in place). */
SB_API int sb_rope(const float *x, int64_t rows, int64_t heads, int64_t head_dim, const int32_t *positions,
                   const float *cos_table, const float *sin_table, int64_t max_pos, float sign, float *out);
/* SwiGLU gate: out = silu(g) * u with silu(g) = g / (1 + exp(-g)). */
SB_API int sb_silu_mul_forward(const float *g, const float *u, int64_t n, float *out);
/* dg = dout * u * silu'(g), du = dout * silu(g); either may be NULL. */
SB_API int sb_silu_mul_backward(const float *g, const float *u, const float *dout, int64_t n, float *dg, float *du);
/* Causal softmax attention with grouped-query heads. q, out: (batch*seq) x (heads*head_dim); k, v:
 * (batch*seq) x (kv_heads*head_dim); query head h reads kv head h / (heads/kv_heads). lse: batch x heads x seq,
 * the log-sum-exp of each softmax row, kept for the backward pass. */
SB_API int sb_attention_forward(const float *q, const float *k, const float *v, int64_t batch, int64_t seq,
                                int64_t heads, int64_t kv_heads, int64_t head_dim, float scale, float *out,
                                float *lse);
/* Gradients of sb_attention_forward (recomputing the probabilities from lse); dq, dk, dv are overwritten. */
SB_API int sb_attention_backward(const float *q, const float *k, const float *v, const float *out, const float *lse,
                                 const float *dout, int64_t batch, int64_t seq, int64_t heads, int64_t kv_heads,
                                 int64_t head_dim, float scale, float *dq, float *dk, float *dv);
/* Attention of new_tokens new query tokens per sequence against a key/value cache (inference). q, out:
 * (batch*new_tokens) x (heads*head_dim); k_cache, v_cache: (batch*max_len) x (kv_heads*head_dim), sequence b's keys
 * and values (after RoPE) at rows b*max_len + position, those of the new tokens included; past[b]: the tokens
 * sequence b held before the new ones, in [0, max_len - new_tokens] (else SB_ERR_INDEX). New token t of sequence b
 * is at position p = past[b] + t and attends the keys at positions max(0, p - window + 1) .. p of its sequence
 * (window 0: 0 .. p); query head h reads kv head h / (heads/kv_heads). */
SB_API int sb_cached_attention(const float *q, const float *k_cache, const float *v_cache, const int32_t *past,
                               int64_t batch, int64_t new_tokens, int64_t max_len, int64_t heads, int64_t kv_heads,
                               int64_t head_dim, float scale, int64_t window, float *out);
/* Softmax cross-entropy per row: loss[i] = lse[i] - logits[i, targets[i]], 0 where targets[i] == ignore_index.
 * Targets other than ignore_index must lie in [0, vocab). */
SB_API int sb_cross_entropy_forward(const float *logits, const int32_t *targets, int64_t rows, int64_t vocab,
                                    int32_t ignore_index, float *loss, float *lse);
/* dlogits[i,:] = scale * (softmax(logits[i,:]) - onehot(targets[i])); zero rows where ignored. dlogits may alias
 * logits. */
SB_API int sb_cross_entropy_backward(const float *logits, const int32_t *targets, const float *lse, int64_t rows,
                                     int64_t vocab, int32_t ignore_index, float scale, float *dlogits);

/* ---- Fused layers (native/src/fused_norm.c): work that would otherwise make a second pass over the rows. ---- */

/* The residual add and the RMSNorm that follows it: sum = x + delta, then rstd and y as sb_rmsnorm_forward of sum.
 * sum may alias x or delta. */
SB_API int sb_add_rmsnorm_forward(const float *x, const float *delta, const float *w, int64_t rows, int64_t n,
                                  float eps, float *sum, float *y, float *rstd);
/* Gradients of sb_add_rmsnorm_forward given dy (of y) and dsum (the gradient that reaches sum from its other uses):
 * dx = dsum + the RMSNorm's dx of sum, what x and delta both receive; dw as sb_rmsnorm_backward. dsum, dx or dw
 * may be NULL. */
SB_API int sb_add_rmsnorm_backward(const float *sum, const float *w, const float *rstd, const float *dy,
                                   const float *dsum, int64_t rows, int64_t n, float *dx, float *dw);

/* Softmax cross-entropy forward and backward in one pass over each row (native/src/fused_cross_entropy.c): loss and
 * lse as sb_cross_entropy_forward, dlogits as sb_cross_entropy_backward with that lse, within a few ulp (vectorised
 * exponentials). dlogits may alias logits. */
SB_API int sb_cross_entropy_fused(const float *logits, const int32_t *targets, int64_t rows, int64_t vocab,
                                  int32_t ignore_index, float scale, float *loss, float *lse, float *dlogits);

/* ---- NF4 (QLoRA's 4-bit NormalFloat), blockwise. Element i belongs to block i / block; two elements per byte,
 * the even one in the high nibble (as bitsandbytes packs them). ---- */

/* absmax[b] = max |x| over block b; packed[i/2] holds the index of the NF4 value nearest to x[i] / absmax. */
SB_API int sb_nf4_quantize(const float *x, int64_t n, int64_t block, uint8_t *packed, float *absmax);
/* out[i] = NF4[code of element start + i] * absmax[(start + i) / block] for i < count. */
SB_API int sb_nf4_dequantize(const uint8_t *packed, const float *absmax, int64_t start, int64_t count, int64_t block,
                             float *out);

/* One AdamW step in place, as torch.optim.AdamW (decoupled weight decay, bias correction, eps outside the sqrt):
 *   p *= decay;  m = lerp(m, g, 1 - beta1);  v = beta2*v + (1 - beta2)*g*g;
 *   p -= step_size * m / (sqrt(v) / bias_correction2_sqrt + eps)
 * with decay = 1 - lr*weight_decay, step_size = lr / (1 - beta1^t), bias_correction2_sqrt = sqrt(1 - beta2^t),
 * computed by the caller in double for step t. */
SB_API int sb_adamw_step(float *p, const float *g, float *m, float *v, int64_t n, float beta1, float beta2, float eps,
                         float decay, float step_size, float bias_correction2_sqrt);

/* ---- bf16: mixed precision (the CPU twins of sbora_cuda.h's typed launchers) ----
 * Element types are SB_F32 (float) and SB_BF16 (bfloat16: the upper 16 bits of a float, stored as uint16_t); arrays
 * are void * of the type passed beside them. Each function computes in f32 and rounds once per stored element to
 * its type (to nearest, ties to even; a NaN stays a quiet NaN of the same sign; subnormals are kept), so that
 * element-wise results, gathers and index-adds equal the reference backend's bit for bit. Where every array is
 * f32 a function returns what the f32 function of the same name does. */
#define SB_F32 0
#define SB_BF16 1

/* Binary operators of sb_binary_t. */
#define SB_OP_ADD 0
#define SB_OP_SUB 1
#define SB_OP_MUL 2
#define SB_OP_DIV 3

/* out = x converted (f32 -> bf16 rounds, bf16 -> f32 is exact; the same type: a copy). */
SB_API int sb_convert(const void *x, int xtype, void *out, int otype, int64_t n);
SB_API int sb_fill_t(void *x, int type, int64_t n, float value);
/* out = a op b, all three of `type`; out may alias an input. */
SB_API int sb_binary_t(int op, const void *a, const void *b, int type, int64_t n, void *out);
SB_API int sb_scale_t(const void *x, int type, int64_t n, float s, void *out);
/* y += alpha * x, x and y of their own types. */
SB_API int sb_axpy_t(int64_t n, float alpha, const void *x, int xtype, void *y, int ytype);
/* Accumulated in double, in blocks added in a fixed order (for bf16: the same result on any thread count). */
SB_API int sb_sum_t(const void *x, int type, int64_t n, double *out);
SB_API int sb_count_nonfinite_t(const void *x, int type, int64_t n, int64_t *out);
/* As sb_gather_cols / sb_gather_rows; out of x's type. */
SB_API int sb_gather_cols_t(const void *x, int type, int64_t rows, int64_t cols, int64_t ldx, const int32_t *idx,
                            int64_t r, void *out, int64_t ldo);
SB_API int sb_gather_rows_t(const void *x, int type, int64_t rows, int64_t cols, int64_t ldx, const int32_t *idx,
                            int64_t r, void *out, int64_t ldo);
/* As sb_index_add_cols / sb_index_add_rows, dst and src of their own types (the merge of f32 factors into a bf16
 * weight: dst bf16, src f32); each addition is rounded to dst's type. */
SB_API int sb_index_add_cols_t(void *dst, int dtype, int64_t rows, int64_t cols, int64_t ldd, const int32_t *idx,
                               int64_t r, const void *src, int stype, int64_t lds, float alpha);
SB_API int sb_index_add_rows_t(void *dst, int dtype, int64_t rows, int64_t cols, int64_t ldd, const int32_t *idx,
                               int64_t r, const void *src, int stype, int64_t lds, float alpha);

/* The two ends of a GEMM with bf16 operands run as f32 GEMMs on bounded tiles (the caller's cblas_sgemm, or the
 * fused kernels above): the products of bf16 values are exact in f32, so an f32 GEMM of the widened values is a
 * bf16 x bf16 product with f32 accumulation.
 * sb_bf16_panel: out[i, j] = x[i, j] as a bf16 operand holds it, in f32 (rows x cols): a bf16 x widened exactly, an
 *                f32 x rounded to bf16 (the f32 operand beside a bf16 one, Backend's contract).
 * sb_store_t:    c[i, j] = t[i, j] + beta * c[i, j], rounded to c's type; c is not read when beta is 0. */
SB_API int sb_bf16_panel(const void *x, int xtype, int64_t rows, int64_t cols, int64_t ldx, float *out, int64_t ldo);
SB_API int sb_store_t(const float *t, int64_t rows, int64_t cols, int64_t ldt, float beta, void *c, int ctype,
                      int64_t ldc);

/* sb_gather_gemm and sb_gemm_scatter with x (a), c and xs of `type` (with SB_F32, those functions; work unused).
 * With SB_BF16, f (f32) is rounded to bf16 values and packed by the function into work, k-major and padded:
 * r * (n rounded up to a multiple of 32) floats for the gather, kdim * (r rounded up to a multiple of 16) for the
 * scatter; the sums are f32 (fused multiply-adds, in k order) and each element of c is read, added to and rounded
 * once. Indices must lie in [0, ldx) (gather) or [0, ldc) (scatter). */
SB_API int sb_gather_gemm_t(int type, const void *x, int64_t m, int64_t ldx, const int32_t *idx, int64_t r,
                            const float *f, int64_t ldf, int trans_f, int64_t n, float alpha, void *c, int64_t ldc,
                            void *xs, int64_t ldxs, float *work);
SB_API int sb_gemm_scatter_t(int type, const void *a, int64_t m, int64_t kdim, int64_t lda, const float *f,
                             int64_t ldf, int trans_f, const int32_t *idx, int64_t r, float alpha, void *c,
                             int64_t ldc, float *work);

#ifdef __cplusplus
}
#endif

#endif /* SBORA_NATIVE_H */
