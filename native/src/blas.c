/* GEMMs on the kernels' OpenMP team: the CBLAS sgemm the caller registers runs single-threaded on tiles of C, one
 * tile per thread of the team (sb_sgemm); and a threads callback through which OpenBLAS (>= 0.3.27) can run its
 * own parallel jobs on that team (sb_blas_threads_callback). */
#include "sb_internal.h"

#include <limits.h>
#include <stddef.h>

typedef void (*sb_cblas_sgemm_fn)(int order, int trans_a, int trans_b, int m, int n, int k, float alpha,
                                  const float *a, int lda, const float *b, int ldb, float beta, float *c, int ldc);

static sb_cblas_sgemm_fn sgemm_fn = NULL;

int sb_set_blas_sgemm(void *cblas_sgemm) {
    SB_CHECK(cblas_sgemm != NULL);
    __atomic_store_n(&sgemm_fn, (sb_cblas_sgemm_fn)cblas_sgemm, __ATOMIC_RELEASE);
    return SB_OK;
}

enum { ROW_MAJOR = 101, NO_TRANS = 111, TRANS = 112 };

/* Below this many multiply-adds per thread, a GEMM runs on the calling thread alone. */
#define GEMM_MIN_MACS_PER_THREAD (1LL << 21)
/* Tile edges are multiples of this (the register blocks of OpenBLAS's sgemm kernels divide it). */
#define GEMM_TILE_ALIGN 32

int sb_sgemm(int trans_a, int trans_b, int64_t m, int64_t n, int64_t k, float alpha, const float *a, int64_t lda,
             const float *b, int64_t ldb, float beta, float *c, int64_t ldc) {
    SB_CHECK(m >= 0 && n >= 0 && k >= 0 && m <= INT_MAX && n <= INT_MAX && k <= INT_MAX);
    SB_CHECK(lda >= 1 && ldb >= 1 && ldc >= 1 && lda <= INT_MAX && ldb <= INT_MAX && ldc <= INT_MAX);
    if (m == 0 || n == 0) return SB_OK;
    sb_cblas_sgemm_fn f = __atomic_load_n(&sgemm_fn, __ATOMIC_ACQUIRE);
    SB_CHECK(f != NULL && a != NULL && b != NULL && c != NULL);
    const int ta = trans_a ? TRANS : NO_TRANS, tb = trans_b ? TRANS : NO_TRANS;
    const int64_t macs = m * n * (k > 0 ? k : 1);
    int nt = sb_threads_for(macs / (GEMM_MIN_MACS_PER_THREAD / (SB_PARALLEL_MIN_WORK / 2)));
    /* Split the longer side of C into nt aligned bands. */
    const int split_m = m >= n;
    const int64_t len = split_m ? m : n;
    const int64_t max_bands = (len + GEMM_TILE_ALIGN - 1) / GEMM_TILE_ALIGN;
    if (nt > max_bands) nt = (int)max_bands;
    if (nt <= 1) {
        f(ROW_MAJOR, ta, tb, (int)m, (int)n, (int)k, alpha, a, (int)lda, b, (int)ldb, beta, c, (int)ldc);
        return SB_OK;
    }
#pragma omp parallel num_threads(nt)
    {
        const int tid = omp_get_thread_num(), nth = omp_get_num_threads();
        const int64_t blocks = max_bands;
        const int64_t lo = blocks * tid / nth * GEMM_TILE_ALIGN;
        int64_t hi = blocks * (tid + 1) / nth * GEMM_TILE_ALIGN;
        if (hi > len) hi = len;
        if (lo < hi) {
            if (split_m) {
                const float *as = trans_a ? a + lo : a + lo * lda;
                f(ROW_MAJOR, ta, tb, (int)(hi - lo), (int)n, (int)k, alpha, as, (int)lda, b, (int)ldb, beta,
                  c + lo * ldc, (int)ldc);
            } else {
                const float *bs = trans_b ? b + lo * ldb : b + lo;
                f(ROW_MAJOR, ta, tb, (int)m, (int)(hi - lo), (int)k, alpha, a, (int)lda, bs, (int)ldb, beta, c + lo,
                  (int)ldc);
            }
        }
    }
    return SB_OK;
}

/* OpenBLAS's openblas_threads_callback: run numjobs jobs, all at the same time (OpenBLAS's level-3 threads wait
 * on each other's packed panels, so a job run after another would wait for ever), job i as dojob(i, ...): OpenBLAS
 * gives job i the work buffer of slot i, so the same job index always uses the same buffer. */
typedef void (*sb_dojob_fn)(int thread_num, void *jobdata, int dojob_data);

SB_API void sb_blas_threads_callback(int sync, sb_dojob_fn dojob, int numjobs, size_t jobdata_elsize, void *jobdata,
                                     int dojob_data);

void sb_blas_threads_callback(int sync, sb_dojob_fn dojob, int numjobs, size_t jobdata_elsize, void *jobdata,
                              int dojob_data) {
    (void)sync;
    if (numjobs <= 1) {
        if (numjobs == 1) dojob(0, jobdata, dojob_data);
        return;
    }
#pragma omp parallel num_threads(numjobs)
    {
        const int i = omp_get_thread_num();
        if (i < numjobs) dojob(i, (char *)jobdata + (size_t)i * jobdata_elsize, dojob_data);
    }
}
