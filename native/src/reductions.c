/* Reductions accumulate in double: a float running sum over millions of elements would lose the digits that
 * gradient checks and loss curves need. Per-thread partial sums are combined in thread order, so a result
 * depends only on the input and the thread count. */
#include "sb_internal.h"

#include <math.h>

#define SB_MAX_THREADS 256

SB_CLONES static double sum_chunk(const float *x, int64_t lo, int64_t hi) {
    double s = 0.0;
#pragma omp simd reduction(+ : s)
    for (int64_t i = lo; i < hi; i++) s += (double)x[i];
    return s;
}

SB_CLONES static double dot_chunk(const float *a, const float *b, int64_t lo, int64_t hi) {
    double s = 0.0;
#pragma omp simd reduction(+ : s)
    for (int64_t i = lo; i < hi; i++) s += (double)a[i] * (double)b[i];
    return s;
}

SB_CLONES static int64_t nonfinite_chunk(const float *x, int64_t lo, int64_t hi) {
    int64_t c = 0;
#pragma omp simd reduction(+ : c)
    for (int64_t i = lo; i < hi; i++) c += (x[i] - x[i] != 0.0f) | (x[i] != x[i]);
    return c;
}

/* Partial results land in part[thread], then are added in order. */
#define SB_REDUCE(n, type, result, chunk_call)                                                                      \
    do {                                                                                                            \
        type part_[SB_MAX_THREADS] = {0};                                                                           \
        int used_ = 1;                                                                                              \
        const int64_t n__ = (n);                                                                                    \
        int nt__ = sb_threads_for(n__);                                                                             \
        if (nt__ > SB_MAX_THREADS) nt__ = SB_MAX_THREADS;                                                           \
        if (nt__ <= 1) {                                                                                            \
            const int64_t lo = 0, hi = n__;                                                                         \
            part_[0] = chunk_call;                                                                                  \
        } else {                                                                                                    \
            used_ = nt__;                                                                                           \
            _Pragma("omp parallel num_threads(nt__)") {                                                             \
                const int tid_ = omp_get_thread_num(), nth_ = omp_get_num_threads();                                \
                const int64_t lo = n__ * tid_ / nth_, hi = n__ * (tid_ + 1) / nth_;                                 \
                part_[tid_] = chunk_call;                                                                           \
            }                                                                                                       \
        }                                                                                                           \
        type acc_ = 0;                                                                                              \
        for (int t_ = 0; t_ < used_; t_++) acc_ += part_[t_];                                                       \
        result = acc_;                                                                                              \
    } while (0)

int sb_sum(const float *x, int64_t n, double *out) {
    SB_CHECK(n >= 0 && out != NULL);
    SB_CHECK(n == 0 || x != NULL);
    SB_REDUCE(n, double, *out, sum_chunk(x, lo, hi));
    return SB_OK;
}

int sb_dot(const float *a, const float *b, int64_t n, double *out) {
    SB_CHECK(n >= 0 && out != NULL);
    SB_CHECK(n == 0 || (a != NULL && b != NULL));
    SB_REDUCE(n, double, *out, dot_chunk(a, b, lo, hi));
    return SB_OK;
}

int sb_count_nonfinite(const float *x, int64_t n, int64_t *out) {
    SB_CHECK(n >= 0 && out != NULL);
    SB_CHECK(n == 0 || x != NULL);
    SB_REDUCE(n, int64_t, *out, nonfinite_chunk(x, lo, hi));
    return SB_OK;
}
