/* Elementwise kernels over contiguous floats. Compiled with -ffp-contract=off so that every result is the single
 * correctly rounded IEEE operation the reference backend computes in Java: cpu and reference agree bit for bit. */
#include "sb_internal.h"

#define SB_BINARY(name, op)                                                                                         \
    SB_CLONES static void name##_chunk(const float *a, const float *b, float *out, int64_t lo, int64_t hi) {         \
        for (int64_t i = lo; i < hi; i++) out[i] = a[i] op b[i];                                                    \
    }                                                                                                               \
    int sb_##name(const float *a, const float *b, int64_t n, float *out) {                                          \
        SB_CHECK(n >= 0);                                                                                           \
        if (n == 0) return SB_OK;                                                                                   \
        SB_CHECK(a != NULL && b != NULL && out != NULL);                                                            \
        SB_PARALLEL_CHUNKS(n, n, lo, hi, name##_chunk(a, b, out, lo, hi));                                          \
        return SB_OK;                                                                                               \
    }

SB_BINARY(add, +)
SB_BINARY(sub, -)
SB_BINARY(mul, *)
SB_BINARY(div, /)

SB_CLONES static void fill_chunk(float *x, float v, int64_t lo, int64_t hi) {
    for (int64_t i = lo; i < hi; i++) x[i] = v;
}

int sb_fill(float *x, int64_t n, float value) {
    SB_CHECK(n >= 0);
    if (n == 0) return SB_OK;
    SB_CHECK(x != NULL);
    SB_PARALLEL_CHUNKS(n, n, lo, hi, fill_chunk(x, value, lo, hi));
    return SB_OK;
}

SB_CLONES static void scale_chunk(const float *x, float s, float *out, int64_t lo, int64_t hi) {
    for (int64_t i = lo; i < hi; i++) out[i] = x[i] * s;
}

int sb_scale(const float *x, int64_t n, float s, float *out) {
    SB_CHECK(n >= 0);
    if (n == 0) return SB_OK;
    SB_CHECK(x != NULL && out != NULL);
    SB_PARALLEL_CHUNKS(n, n, lo, hi, scale_chunk(x, s, out, lo, hi));
    return SB_OK;
}

SB_CLONES static void axpy_chunk(float alpha, const float *x, float *y, int64_t lo, int64_t hi) {
    for (int64_t i = lo; i < hi; i++) y[i] += alpha * x[i];
}

int sb_axpy(int64_t n, float alpha, const float *x, float *y) {
    SB_CHECK(n >= 0);
    if (n == 0) return SB_OK;
    SB_CHECK(x != NULL && y != NULL);
    SB_PARALLEL_CHUNKS(n, n, lo, hi, axpy_chunk(alpha, x, y, lo, hi));
    return SB_OK;
}
