/* GEMM on the kernels' OpenMP team: the CBLAS sgemm registered by the caller (OpenBLAS, kept single-threaded) runs
 * once per thread, each call on its own tile of C. One pool of threads then serves GEMMs and kernels alike, its
 * size is the calling thread's count for every call, and no thread of a BLAS pool is left spinning while the
 * kernels run: see docs/ARCHITECTURE.md, "Native boundary", for the measurements behind this. */
#include "sb_internal.h"

#include <limits.h>

typedef void (*sb_cblas_sgemm_fn)(int order, int trans_a, int trans_b, int m, int n, int k, float alpha,
                                  const float *a, int lda, const float *b, int ldb, float beta, float *c, int ldc);

static sb_cblas_sgemm_fn sgemm_fn = NULL;

int sb_set_blas_sgemm(void *cblas_sgemm) {
    SB_CHECK(cblas_sgemm != NULL);
    __atomic_store_n(&sgemm_fn, (sb_cblas_sgemm_fn)cblas_sgemm, __ATOMIC_RELEASE);
    return SB_OK;
}

/* CBLAS's enum values. */
enum { CBLAS_ROW_MAJOR = 101, CBLAS_NO_TRANS = 111, CBLAS_TRANS = 112 };

/* Below this many multiply-adds per thread a GEMM runs on the calling thread alone (about 50 us on one core, an
 * order of magnitude above waking a sleeping team). */
#define GEMM_MIN_MACS_PER_THREAD (2.0 * 1024 * 1024)
/* Tile edges are multiples of this, which OpenBLAS's sgemm register blocks divide. */
#define GEMM_BAND_ALIGN 32

/* A grid of pm x pn tiles for nt threads: pm * pn == nt, at most one tile per GEMM_BAND_ALIGN rows or columns,
 * and the least data packed per thread (each tile's call packs its rows of op(a) and its columns of op(b): k·m/pm +
 * k·n/pn elements). With 2 threads that cuts the longer side of C in two. Fewer threads when no grid fits. */
static int gemm_grid(int nt, int64_t m, int64_t n, int *pm_out, int *pn_out) {
    const int64_t mb = (m + GEMM_BAND_ALIGN - 1) / GEMM_BAND_ALIGN, nb = (n + GEMM_BAND_ALIGN - 1) / GEMM_BAND_ALIGN;
    for (; nt > 1; nt--) {
        double best = 0;
        int found = 0;
        for (int pm = 1; pm <= nt; pm++) {
            const int pn = nt / pm;
            if (pm * pn != nt || pm > mb || pn > nb) continue;
            const double cost = (double)m / pm + (double)n / pn;
            if (!found || cost < best) {
                best = cost;
                *pm_out = pm;
                *pn_out = pn;
                found = 1;
            }
        }
        if (found) return nt;
    }
    *pm_out = *pn_out = 1;
    return 1;
}

int sb_sgemm(int trans_a, int trans_b, int64_t m, int64_t n, int64_t k, float alpha, const float *a, int64_t lda,
             const float *b, int64_t ldb, float beta, float *c, int64_t ldc) {
    SB_CHECK(m >= 0 && n >= 0 && k >= 0 && m <= INT_MAX && n <= INT_MAX && k <= INT_MAX);
    SB_CHECK(lda >= 1 && ldb >= 1 && ldc >= 1 && lda <= INT_MAX && ldb <= INT_MAX && ldc <= INT_MAX);
    if (m == 0 || n == 0) return SB_OK;
    const sb_cblas_sgemm_fn f = __atomic_load_n(&sgemm_fn, __ATOMIC_ACQUIRE);
    SB_CHECK(f != NULL && a != NULL && b != NULL && c != NULL);
    const int ta = trans_a ? CBLAS_TRANS : CBLAS_NO_TRANS, tb = trans_b ? CBLAS_TRANS : CBLAS_NO_TRANS;

    const double useful = (double)m * (double)n * (double)k / GEMM_MIN_MACS_PER_THREAD;
    int nt = sb_max_threads(), pm = 1, pn = 1;
    if (useful < nt) nt = useful < 1 ? 1 : (int)useful;
    nt = gemm_grid(nt, m, n, &pm, &pn);
    if (nt <= 1) {
        f(CBLAS_ROW_MAJOR, ta, tb, (int)m, (int)n, (int)k, alpha, a, (int)lda, b, (int)ldb, beta, c, (int)ldc);
        return SB_OK;
    }
    const int64_t mb = (m + GEMM_BAND_ALIGN - 1) / GEMM_BAND_ALIGN, nb = (n + GEMM_BAND_ALIGN - 1) / GEMM_BAND_ALIGN;
#pragma omp parallel num_threads(nt)
    {
        /* Every tile is covered whatever team size OpenMP grants. */
        const int nth = omp_get_num_threads();
        for (int t = omp_get_thread_num(); t < pm * pn; t += nth) {
            const int im = t / pn, in = t % pn;
            const int64_t r0 = mb * im / pm * GEMM_BAND_ALIGN, c0 = nb * in / pn * GEMM_BAND_ALIGN;
            int64_t r1 = mb * (im + 1) / pm * GEMM_BAND_ALIGN, c1 = nb * (in + 1) / pn * GEMM_BAND_ALIGN;
            if (r1 > m) r1 = m;
            if (c1 > n) c1 = n;
            if (r0 < r1 && c0 < c1) {
                const float *at = trans_a ? a + r0 : a + r0 * lda;
                const float *bt = trans_b ? b + c0 * ldb : b + c0;
                f(CBLAS_ROW_MAJOR, ta, tb, (int)(r1 - r0), (int)(c1 - c0), (int)k, alpha, at, (int)lda, bt, (int)ldb,
                  beta, c + r0 * ldc + c0, (int)ldc);
            }
        }
    }
    return SB_OK;
}
