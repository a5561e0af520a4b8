/* Gather and index-add along rows or columns: the SBoRA kernels. A standard-basis A (or B) is never built as a
 * matrix; x·Aᵀ with A = rows idx of the identity is exactly the column gather x[:, idx] (paper §3). */
#include "sb_internal.h"

SB_CLONES static void gather_cols_rows(const float *x, int64_t ldx, const int32_t *idx, int64_t r, float *out,
                                       int64_t ldo, int64_t lo, int64_t hi) {
    for (int64_t t = lo; t < hi; t++) {
        const float *xr = x + t * ldx;
        float *o = out + t * ldo;
        for (int64_t j = 0; j < r; j++) o[j] = xr[idx[j]];
    }
}

int sb_gather_cols(const float *x, int64_t rows, int64_t cols, int64_t ldx, const int32_t *idx, int64_t r,
                   float *out, int64_t ldo) {
    SB_CHECK(rows >= 0 && cols >= 0 && r >= 0 && ldx >= cols && ldo >= r);
    if (rows == 0 || r == 0) return SB_OK;
    SB_CHECK(x != NULL && idx != NULL && out != NULL);
    if (!sb_indices_in_range(idx, r, cols)) return SB_ERR_INDEX;
    SB_PARALLEL_CHUNKS(rows, rows * r, lo, hi, gather_cols_rows(x, ldx, idx, r, out, ldo, lo, hi));
    return SB_OK;
}

SB_CLONES static void copy_floats(const float *src, float *dst, int64_t n) {
    for (int64_t c = 0; c < n; c++) dst[c] = src[c];
}

int sb_gather_rows(const float *x, int64_t rows, int64_t cols, int64_t ldx, const int32_t *idx, int64_t r,
                   float *out, int64_t ldo) {
    SB_CHECK(rows >= 0 && cols >= 0 && r >= 0 && ldx >= cols && ldo >= cols);
    if (r == 0 || cols == 0) return SB_OK;
    SB_CHECK(x != NULL && idx != NULL && out != NULL);
    if (!sb_indices_in_range(idx, r, rows)) return SB_ERR_INDEX;
    SB_PARALLEL_CHUNKS(r, r * cols, lo, hi, {
        for (int64_t j = lo; j < hi; j++) copy_floats(x + (int64_t)idx[j] * ldx, out + j * ldo, cols);
    });
    return SB_OK;
}

/* The indices are distinct (the caller guarantees it), so the scattered stores of one row never collide and the
 * loop may be vectorised as a scatter. */
SB_CLONES static void index_add_cols_rows(float *dst, int64_t ldd, const int32_t *idx, int64_t r, const float *src,
                                          int64_t lds, float alpha, int64_t lo, int64_t hi) {
    for (int64_t t = lo; t < hi; t++) {
        float *d = dst + t * ldd;
        const float *s = src + t * lds;
#pragma omp simd
        for (int64_t j = 0; j < r; j++) d[idx[j]] += alpha * s[j];
    }
}

int sb_index_add_cols(float *dst, int64_t rows, int64_t cols, int64_t ldd, const int32_t *idx, int64_t r,
                      const float *src, int64_t lds, float alpha) {
    SB_CHECK(rows >= 0 && cols >= 0 && r >= 0 && ldd >= cols && lds >= r);
    if (rows == 0 || r == 0) return SB_OK;
    SB_CHECK(dst != NULL && idx != NULL && src != NULL);
    if (!sb_indices_in_range(idx, r, cols)) return SB_ERR_INDEX;
    SB_PARALLEL_CHUNKS(rows, rows * r, lo, hi, index_add_cols_rows(dst, ldd, idx, r, src, lds, alpha, lo, hi));
    return SB_OK;
}

SB_CLONES static void axpy_floats(float *d, const float *s, float alpha, int64_t n) {
    for (int64_t c = 0; c < n; c++) d[c] += alpha * s[c];
}

/* Split over columns, not over j: every thread walks all r source rows in order, so repeated indices accumulate
 * without races (the embedding backward adds many tokens into one row). */
int sb_index_add_rows(float *dst, int64_t rows, int64_t cols, int64_t ldd, const int32_t *idx, int64_t r,
                      const float *src, int64_t lds, float alpha) {
    SB_CHECK(rows >= 0 && cols >= 0 && r >= 0 && ldd >= cols && lds >= cols);
    if (r == 0 || cols == 0) return SB_OK;
    SB_CHECK(dst != NULL && idx != NULL && src != NULL);
    if (!sb_indices_in_range(idx, r, rows)) return SB_ERR_INDEX;
    SB_PARALLEL_CHUNKS(cols, r * cols, lo, hi, {
        for (int64_t j = 0; j < r; j++) axpy_floats(dst + (int64_t)idx[j] * ldd + lo, src + j * lds + lo, alpha, hi - lo);
    });
    return SB_OK;
}
