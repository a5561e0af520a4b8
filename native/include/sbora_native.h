/*
 * sbora_native.h - the whole C API of the CPU kernels of sbora4j.
 *
 * Rules of this boundary (see docs/ARCHITECTURE.md):
 *  - plain C functions, no global state except the thread count below;
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

/* Threads used by the kernels (OpenMP). n <= 0 restores the default (all cores). */
SB_API int sb_set_num_threads(int n);
SB_API int sb_get_num_threads(int *out);

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
/* dst[idx[j], :] += alpha * src[j, :]; dst is rows x cols, src r x cols. Indices must be distinct.
 * With dst = W, src = A and alpha = +-s this is the SBoRA-FB merge / unmerge W[idx, :] +-= s*A. */
SB_API int sb_index_add_rows(float *dst, int64_t rows, int64_t cols, int64_t ldd, const int32_t *idx, int64_t r,
                             const float *src, int64_t lds, float alpha);

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

/* One AdamW step in place, as torch.optim.AdamW (decoupled weight decay, bias correction, eps outside the sqrt):
 *   p *= decay;  m = lerp(m, g, 1 - beta1);  v = beta2*v + (1 - beta2)*g*g;
 *   p -= step_size * m / (sqrt(v) / bias_correction2_sqrt + eps)
 * with decay = 1 - lr*weight_decay, step_size = lr / (1 - beta1^t), bias_correction2_sqrt = sqrt(1 - beta2^t),
 * computed by the caller in double for step t. */
SB_API int sb_adamw_step(float *p, const float *g, float *m, float *v, int64_t n, float beta1, float beta2, float eps,
                         float decay, float step_size, float bias_correction2_sqrt);

#ifdef __cplusplus
}
#endif

#endif /* SBORA_NATIVE_H */
