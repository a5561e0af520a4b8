/* Fused row-wise layers: the residual add of a LLaMA block and the RMSNorm that reads its result, forward and
 * backward, each in one pass over the rows (a row is read and written while it is in cache). */
#include "sb_internal.h"

#include <math.h>

SB_CLONES static void add_rmsnorm_row(const float *x, const float *delta, const float *w, int64_t n, float eps,
                                      float *sum, float *y, float *rstd) {
    double ss = 0.0;
#pragma omp simd reduction(+ : ss)
    for (int64_t j = 0; j < n; j++) {
        const float v = x[j] + delta[j];
        sum[j] = v;
        ss += (double)v * (double)v;
    }
    const float r = (float)(1.0 / sqrt(ss / (double)n + (double)eps));
    *rstd = r;
    for (int64_t j = 0; j < n; j++) y[j] = w[j] * (sum[j] * r);
}

int sb_add_rmsnorm_forward(const float *x, const float *delta, const float *w, int64_t rows, int64_t n, float eps,
                           float *sum, float *y, float *rstd) {
    SB_CHECK(rows >= 0 && n > 0 && eps >= 0.0f);
    if (rows == 0) return SB_OK;
    SB_CHECK(x != NULL && delta != NULL && w != NULL && sum != NULL && y != NULL && rstd != NULL);
    SB_PARALLEL_CHUNKS(rows, rows * n * 2, lo, hi, {
        for (int64_t i = lo; i < hi; i++)
            add_rmsnorm_row(x + i * n, delta + i * n, w, n, eps, sum + i * n, y + i * n, rstd + i);
    });
    return SB_OK;
}

/* The RMSNorm's dx of one row (as sb_rmsnorm_backward computes it, operation for operation), plus dsum. */
SB_CLONES static void add_rmsnorm_dx_row(const float *s, const float *w, float rstd, const float *dy,
                                         const float *dsum, int64_t n, float *dx) {
    double dot = 0.0;
#pragma omp simd reduction(+ : dot)
    for (int64_t j = 0; j < n; j++) dot += (double)(dy[j] * w[j]) * (double)(s[j] * rstd);
    const float mean = (float)(dot / (double)n);
    if (dsum != NULL) {
        for (int64_t j = 0; j < n; j++) dx[j] = rstd * (dy[j] * w[j] - (s[j] * rstd) * mean) + dsum[j];
    } else {
        for (int64_t j = 0; j < n; j++) dx[j] = rstd * (dy[j] * w[j] - (s[j] * rstd) * mean);
    }
}

int sb_add_rmsnorm_backward(const float *sum, const float *w, const float *rstd, const float *dy, const float *dsum,
                            int64_t rows, int64_t n, float *dx, float *dw) {
    SB_CHECK(rows >= 0 && n > 0);
    SB_CHECK(sum != NULL && w != NULL && rstd != NULL && dy != NULL);
    if (dx != NULL && rows > 0) {
        SB_PARALLEL_CHUNKS(rows, rows * n * 2, lo, hi, {
            for (int64_t i = lo; i < hi; i++)
                add_rmsnorm_dx_row(sum + i * n, w, rstd[i], dy + i * n, dsum == NULL ? NULL : dsum + i * n, n,
                                   dx + i * n);
        });
    }
    /* dw is a reduction over the rows, in column blocks: the plain RMSNorm's, on sum */
    return dw == NULL ? SB_OK : sb_rmsnorm_backward(sum, w, rstd, dy, rows, n, NULL, dw);
}
