/*
 * sbora_cuda.h - the whole C API of the CUDA kernels of sbora4j (host launchers, extern "C").
 *
 * The kernels mirror native/include/sbora_native.h one to one (same names with sbc_ for sb_, same arguments and
 * meaning), on device memory, with the stream as the last argument (NULL: the legacy default stream). Rules:
 *  - sizes int64_t, row-major, explicit leading dimensions where sbora_native.h has them;
 *  - every function returns an int status: 0, a cudaError_t value, SBC_ERR_ARG for a bad argument, or
 *    SBC_ERR_INDEX for an index out of range where a launcher checks indices on the host (sbc_rope's positions);
 *  - indices read from device memory (gathers, index-adds, the fused SBoRA GEMMs, cross-entropy targets) are checked
 *    on the device, in stream order: one out of range makes that kernel, and every index kernel after it, do
 *    nothing, and sbc_take_index_fault reports it at the next synchronisation;
 *  - launchers are asynchronous (but sbc_rope, which reads its positions on the host first) and never allocate (but
 *    the one int of the index-fault flag, at the first index check); reductions write their result to device
 *    memory the caller owns and copies back;
 *  - memory, copies and errors go through the functions below, so that Java needs no other CUDA library than
 *    this one (the runtime is linked in statically) and cuBLAS.
 * The Java bindings in io.sbora4j.ffi.sbora_cuda_h mirror this file; a test compares them.
 */
#ifndef SBORA_CUDA_H
#define SBORA_CUDA_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__)
#define SBC_API __attribute__((visibility("default")))
#else
#define SBC_API
#endif

#define SBC_OK 0
#define SBC_ERR_ARG 100001
#define SBC_ERR_INDEX 100002 /* an index outside [0, dimension) (sbc_rope's positions; sbc_take_index_fault) */

/* Copy directions (cudaMemcpyKind values). */
#define SBC_HOST_TO_DEVICE 1
#define SBC_DEVICE_TO_HOST 2
#define SBC_DEVICE_TO_DEVICE 3

/* ---- devices, memory, errors ---- */
SBC_API int sbc_device_count(int *out);
SBC_API int sbc_set_device(int device);
/* The device's name and compute capability (major*10 + minor), into name (at most len bytes, NUL-terminated). */
SBC_API int sbc_device_info(int device, char *name, int64_t len, int *capability);
/* cudaGetErrorName(code) + ": " + cudaGetErrorString(code), into buf (at most len bytes, NUL-terminated). */
SBC_API int sbc_error_string(int code, char *buf, int64_t len);
SBC_API int sbc_malloc(void **ptr, int64_t bytes);
SBC_API int sbc_free(void *ptr);
SBC_API int sbc_memcpy(void *dst, const void *src, int64_t bytes, int kind);
SBC_API int sbc_memset(void *ptr, int value, int64_t bytes, void *stream);
SBC_API int sbc_synchronize(void);
/* Streams: a blocking stream (ordered with the legacy default stream), its copies and its completion. */
SBC_API int sbc_stream_create(void **stream);
SBC_API int sbc_stream_destroy(void *stream);
SBC_API int sbc_stream_synchronize(void *stream);
SBC_API int sbc_memcpy_async(void *dst, const void *src, int64_t bytes, int kind, void *stream);
/* Whether an index kernel met an index out of range since the last call (*out = 1, and the flag is lowered) or not
 * (*out = 0). Waits for the stream (a 4-byte copy) once an index has ever been checked; before that, returns at once. */
SBC_API int sbc_take_index_fault(int *out, void *stream);

/* ---- gathers and index-adds (SBoRA) ---- */
SBC_API int sbc_gather_cols(const float *x, int64_t rows, int64_t cols, int64_t ldx, const int32_t *idx, int64_t r,
                            float *out, int64_t ldo, void *stream);
SBC_API int sbc_gather_rows(const float *x, int64_t rows, int64_t cols, int64_t ldx, const int32_t *idx, int64_t r,
                            float *out, int64_t ldo, void *stream);
/* Indices distinct. */
SBC_API int sbc_index_add_cols(float *dst, int64_t rows, int64_t cols, int64_t ldd, const int32_t *idx, int64_t r,
                               const float *src, int64_t lds, float alpha, void *stream);
/* Repeated indices accumulate (atomics). */
SBC_API int sbc_index_add_rows(float *dst, int64_t rows, int64_t cols, int64_t ldd, const int32_t *idx, int64_t r,
                               const float *src, int64_t lds, float alpha, void *stream);

/* ---- elementwise ---- */
SBC_API int sbc_fill(float *x, int64_t n, float value, void *stream);
SBC_API int sbc_add(const float *a, const float *b, int64_t n, float *out, void *stream);
SBC_API int sbc_sub(const float *a, const float *b, int64_t n, float *out, void *stream);
SBC_API int sbc_mul(const float *a, const float *b, int64_t n, float *out, void *stream);
SBC_API int sbc_div(const float *a, const float *b, int64_t n, float *out, void *stream);
SBC_API int sbc_scale(const float *x, int64_t n, float s, float *out, void *stream);
SBC_API int sbc_axpy(int64_t n, float alpha, const float *x, float *y, void *stream);

/* ---- reductions (results in device memory) ---- */
SBC_API int sbc_sum(const float *x, int64_t n, double *out, void *stream);
SBC_API int sbc_dot(const float *a, const float *b, int64_t n, double *out, void *stream);
SBC_API int sbc_count_nonfinite(const float *x, int64_t n, int64_t *out, void *stream);

/* ---- rows and columns ---- */
SBC_API int sbc_row_norm(const float *x, int64_t rows, int64_t cols, float *out, void *stream);
SBC_API int sbc_scale_rows(const float *x, int64_t rows, int64_t cols, const float *s, float *out, void *stream);
SBC_API int sbc_scale_cols(const float *x, int64_t rows, int64_t cols, const float *s, float *out, void *stream);
SBC_API int sbc_col_dot(const float *a, const float *b, int64_t rows, int64_t cols, float *out, void *stream);
SBC_API int sbc_transpose(const float *x, int64_t rows, int64_t cols, float *out, void *stream);

/* ---- transformer layers ---- */
SBC_API int sbc_rmsnorm_forward(const float *x, const float *w, int64_t rows, int64_t n, float eps, float *y,
                                float *rstd, void *stream);
SBC_API int sbc_rmsnorm_backward(const float *x, const float *w, const float *rstd, const float *dy, int64_t rows,
                                 int64_t n, float *dx, float *dw, void *stream);
SBC_API int sbc_rope(const float *x, int64_t rows, int64_t heads, int64_t head_dim, const int32_t *positions,
                     const float *cos_table, const float *sin_table, int64_t max_pos, float sign, float *out,
                     void *stream);
SBC_API int sbc_silu_mul_forward(const float *g, const float *u, int64_t n, float *out, void *stream);
SBC_API int sbc_silu_mul_backward(const float *g, const float *u, const float *dout, int64_t n, float *dg, float *du,
                                  void *stream);
SBC_API int sbc_attention_forward(const float *q, const float *k, const float *v, int64_t batch, int64_t seq,
                                  int64_t heads, int64_t kv_heads, int64_t head_dim, float scale, float *out,
                                  float *lse, void *stream);
SBC_API int sbc_attention_backward(const float *q, const float *k, const float *v, const float *out,
                                   const float *lse, const float *dout, int64_t batch, int64_t seq, int64_t heads,
                                   int64_t kv_heads, int64_t head_dim, float scale, float *dq, float *dk, float *dv,
                                   void *stream);
/* sb_cached_attention on device memory; past is read back to the host and checked before the launch. */
SBC_API int sbc_cached_attention(const float *q, const float *k_cache, const float *v_cache, const int32_t *past,
                                 int64_t batch, int64_t new_tokens, int64_t max_len, int64_t heads, int64_t kv_heads,
                                 int64_t head_dim, float scale, int64_t window, float *out, void *stream);
SBC_API int sbc_cross_entropy_forward(const float *logits, const int32_t *targets, int64_t rows, int64_t vocab,
                                      int32_t ignore_index, float *loss, float *lse, void *stream);
SBC_API int sbc_cross_entropy_backward(const float *logits, const int32_t *targets, const float *lse, int64_t rows,
                                       int64_t vocab, int32_t ignore_index, float scale, float *dlogits,
                                       void *stream);

/* ---- NF4 ---- */
SBC_API int sbc_nf4_quantize(const float *x, int64_t n, int64_t block, uint8_t *packed, float *absmax, void *stream);
SBC_API int sbc_nf4_dequantize(const uint8_t *packed, const float *absmax, int64_t start, int64_t count,
                               int64_t block, float *out, void *stream);

/* ---- optimizer ---- */
SBC_API int sbc_adamw_step(float *p, const float *g, float *m, float *v, int64_t n, float beta1, float beta2,
                           float eps, float decay, float step_size, float bias_correction2_sqrt, void *stream);

/* ---- mixed precision: f32 and bf16 ----
 * Element types are SBC_F32 (float) and SBC_BF16 (bfloat16: the upper 16 bits of a float, stored as uint16_t).
 * Each launcher below computes in f32 and rounds once to the output's type (to nearest, ties to even), and takes
 * the types of its arrays as arguments, so that f32 master weights and their gradients meet bf16 activations and
 * frozen weights without a separate conversion pass. Where both types are f32 the result equals the f32 launcher
 * of the same name above bit for bit.
 */
#define SBC_F32 0
#define SBC_BF16 1

/* Binary operators of sbc_binary_t. */
#define SBC_OP_ADD 0
#define SBC_OP_SUB 1
#define SBC_OP_MUL 2
#define SBC_OP_DIV 3

/* out = x converted (f32 -> bf16 rounds to nearest even, NaN stays NaN; bf16 -> f32 is exact; same type: a copy). */
SBC_API int sbc_convert(const void *x, int xtype, void *out, int otype, int64_t n, void *stream);
SBC_API int sbc_fill_t(void *x, int type, int64_t n, float value, void *stream);
/* out = a op b, all three of `type`. */
SBC_API int sbc_binary_t(int op, const void *a, const void *b, int type, int64_t n, void *out, void *stream);
SBC_API int sbc_scale_t(const void *x, int type, int64_t n, float s, void *out, void *stream);
/* y += alpha * x, y and x of their own types. */
SBC_API int sbc_axpy_t(int64_t n, float alpha, const void *x, int xtype, void *y, int ytype, void *stream);
SBC_API int sbc_sum_t(const void *x, int type, int64_t n, double *out, void *stream);
SBC_API int sbc_count_nonfinite_t(const void *x, int type, int64_t n, int64_t *out, void *stream);
/* As sbc_gather_cols / sbc_gather_rows; out of x's type. */
SBC_API int sbc_gather_cols_t(const void *x, int type, int64_t rows, int64_t cols, int64_t ldx, const int32_t *idx,
                              int64_t r, void *out, int64_t ldo, void *stream);
SBC_API int sbc_gather_rows_t(const void *x, int type, int64_t rows, int64_t cols, int64_t ldx, const int32_t *idx,
                              int64_t r, void *out, int64_t ldo, void *stream);
/* As sbc_index_add_cols / sbc_index_add_rows, dst and src of their own types (the merge of f32 factors into a
 * bf16 weight: dst bf16, src f32). */
SBC_API int sbc_index_add_cols_t(void *dst, int dtype, int64_t rows, int64_t cols, int64_t ldd, const int32_t *idx,
                                 int64_t r, const void *src, int stype, int64_t lds, float alpha, void *stream);
SBC_API int sbc_index_add_rows_t(void *dst, int dtype, int64_t rows, int64_t cols, int64_t ldd, const int32_t *idx,
                                 int64_t r, const void *src, int stype, int64_t lds, float alpha, void *stream);

/* ---- fused SBoRA GEMMs ----
 * The standard-basis factor turns one of the two adapter GEMMs into a gather (or a scatter) that these kernels do
 * while loading (or storing) tiles, so that x[:, idx] and the T x r product are never written out. x, c and xs
 * are of `type` (SBC_F32 or SBC_BF16); the trained factor f is f32 (rounded to bf16 on load when type is bf16, so
 * that bf16 runs multiply bf16 by bf16 with f32 accumulation); the sums are in f32, and c is read, added to and
 * rounded once.
 *
 * sbc_gather_gemm   c[i, j] += alpha * sum_k x[i, idx[k]] * F(k, j)       i < m, j < n, k < r
 *                   F(k, j) = f[j * ldf + k] if trans_f (f is n x r: SBoRA-FA's B, the forward),
 *                             f[k * ldf + j] otherwise (f is r x n: SBoRA-FB's A, the backward dx).
 *                   If xs is not NULL it also receives x[:, idx] (m x r, leading dimension ldxs), what SBoRA-FA's
 *                   backward keeps.
 * sbc_gemm_scatter  c[i, idx[j]] += alpha * sum_k a[i, k] * F(k, j)       i < m, j < r, k < kdim; idx distinct
 *                   F(k, j) = f[j * ldf + k] if trans_f (f is r x kdim: SBoRA-FB's A, the forward),
 *                             f[k * ldf + j] otherwise (f is kdim x r: SBoRA-FA's B, the backward dx).
 *
 * `kernel` picks the form: SBC_KERNEL_AUTO (f32 on the SIMT kernel, bf16 on tensor cores) or SBC_KERNEL_SIMT (bf16 on
 * the SIMT kernel too, the CUDA-core form a benchmark compares with).
 */
#define SBC_KERNEL_AUTO 0
#define SBC_KERNEL_SIMT 1
SBC_API int sbc_gather_gemm(int type, const void *x, int64_t m, int64_t ldx, const int32_t *idx, int64_t r,
                            const float *f, int64_t ldf, int trans_f, int64_t n, float alpha, void *c, int64_t ldc,
                            void *xs, int64_t ldxs, int kernel, void *stream);
SBC_API int sbc_gemm_scatter(int type, const void *a, int64_t m, int64_t kdim, int64_t lda, const float *f,
                             int64_t ldf, int trans_f, const int32_t *idx, int64_t r, float alpha, void *c,
                             int64_t ldc, int kernel, void *stream);

#ifdef __cplusplus
}
#endif

#endif /* SBORA_CUDA_H */
