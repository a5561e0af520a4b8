/* Checks and times the fused SBoRA GEMMs of libsbora_native (sb_gather_gemm, sb_gemm_scatter) against a plain C
 * reference and against the route they replace (sb_gather_cols + cblas_sgemm; cblas_sgemm into a T x r
 * temporary + sb_index_add_cols), and the SBoRA-FA adapter path against LoRA's.
 *
 *   sbora_gemm_bench check                 correctness over awkward shapes (exit status 1 on a mismatch)
 *   sbora_gemm_bench kernels [threads...]  per-shape table: fused kernel, OpenBLAS route, reference
 *   sbora_gemm_bench adapter [threads...]  SBoRA-FA adapter path (forward + backward, frozen GEMMs excluded) vs LoRA
 *   sbora_gemm_bench smalln [threads...]   the backward's small-N GEMMs (dB = s*dy^T*xs, t = dy*B): cblas against
 *                                          sb_gemm_tn_small, sb_gemm_scatter and candidate kernels kept here
 *   sbora_gemm_bench all                   all of the above, threads 1 and 2
 *
 * Environment: SBG_SHAPES=quick limits the kernel table to the shapes of a 4K model; SBG_REPS sets the timing
 * repetitions (best of, default 7); SBG_LEVEL=1 or 0 makes the library take its AVX2 or its plain path (with
 * OPENBLAS_CORETYPE=Haswell for a like-for-like AVX2 comparison); OMP_WAIT_POLICY defaults to PASSIVE, as in the
 * Java process. Links a CBLAS (OpenBLAS): the bench declares the functions it calls. */
#define _POSIX_C_SOURCE 200809L
#include "sbora_native.h"

#include <math.h>
#include <omp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* CBLAS as OpenBLAS exports it. */
enum { CblasRowMajor = 101, CblasNoTrans = 111, CblasTrans = 112 };
void cblas_sgemm(int order, int ta, int tb, int m, int n, int k, float alpha, const float *a, int lda, const float *b,
                 int ldb, float beta, float *c, int ldc);
void openblas_set_num_threads(int n);

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static uint64_t rng_state = 0x9E3779B97F4A7C15ull;
static float frand(void) { /* uniform in [-1, 1) */
    rng_state = rng_state * 6364136223846793005ull + 1442695040888963407ull;
    return (float)((rng_state >> 40) & 0xFFFFFF) / (float)0x800000 - 1.0f;
}

static float *alloc_floats(int64_t n) {
    float *p = aligned_alloc(64, (size_t)((n * 4 + 63) / 64 * 64 + 64));
    if (p == NULL) {
        fprintf(stderr, "out of memory\n");
        exit(2);
    }
    for (int64_t i = 0; i < n; i++) p[i] = frand();
    return p;
}

/* r distinct indices in [0, dim), shuffled (SBoRA sorts them; the kernels must not rely on it). */
static int32_t *make_idx(int64_t r, int64_t dim) {
    int32_t *all = malloc((size_t)dim * sizeof(int32_t));
    for (int64_t i = 0; i < dim; i++) all[i] = (int32_t)i;
    for (int64_t i = 0; i < r; i++) {
        rng_state = rng_state * 6364136223846793005ull + 1442695040888963407ull;
        int64_t j = i + (int64_t)((rng_state >> 33) % (uint64_t)(dim - i));
        int32_t t = all[i];
        all[i] = all[j];
        all[j] = t;
    }
    int32_t *idx = malloc((size_t)(r > 0 ? r : 1) * sizeof(int32_t));
    memcpy(idx, all, (size_t)r * sizeof(int32_t));
    free(all);
    return idx;
}

/* ---------------------------------------------------------------- references (the contract, literally) */

static float ref_f(const float *f, int64_t ldf, int trans_f, int64_t k, int64_t j) {
    return trans_f ? f[j * ldf + k] : f[k * ldf + j];
}

static void ref_gather_gemm(const float *x, int64_t m, int64_t ldx, const int32_t *idx, int64_t r, const float *f,
                            int64_t ldf, int trans_f, int64_t n, float alpha, float *c, int64_t ldc, float *xs,
                            int64_t ldxs) {
    for (int64_t i = 0; i < m; i++) {
        for (int64_t k = 0; k < r && xs != NULL; k++) xs[i * ldxs + k] = x[i * ldx + idx[k]];
        for (int64_t j = 0; j < n; j++) {
            double acc = 0;
            for (int64_t k = 0; k < r; k++) acc += (double)x[i * ldx + idx[k]] * ref_f(f, ldf, trans_f, k, j);
            c[i * ldc + j] = c[i * ldc + j] + (float)(alpha * acc);
        }
    }
}

static void ref_gemm_scatter(const float *a, int64_t m, int64_t kdim, int64_t lda, const float *f, int64_t ldf,
                             int trans_f, const int32_t *idx, int64_t r, float alpha, float *c, int64_t ldc) {
    for (int64_t i = 0; i < m; i++) {
        for (int64_t j = 0; j < r; j++) {
            double acc = 0;
            for (int64_t k = 0; k < kdim; k++) acc += (double)a[i * lda + k] * ref_f(f, ldf, trans_f, k, j);
            c[i * ldc + idx[j]] = c[i * ldc + idx[j]] + (float)(alpha * acc);
        }
    }
}

static void ref_gemm_tn_small(const float *a, int64_t m, int64_t n, int64_t lda, const float *b, int64_t r, int64_t ldb,
                              float alpha, float *c, int64_t ldc) {
    for (int64_t j = 0; j < n; j++)
        for (int64_t k = 0; k < r; k++) {
            double acc = 0;
            for (int64_t i = 0; i < m; i++) acc += (double)a[i * lda + j] * b[i * ldb + k];
            c[j * ldc + k] = (float)(alpha * acc);
        }
}

/* The plain C loops a compiler sees without help (single precision, the contract's order), timed as "loop". */
static void loop_gather_gemm(const float *x, int64_t m, int64_t ldx, const int32_t *idx, int64_t r, const float *f,
                             int64_t ldf, int trans_f, int64_t n, float alpha, float *c, int64_t ldc) {
    for (int64_t i = 0; i < m; i++)
        for (int64_t k = 0; k < r; k++) {
            const float xv = alpha * x[i * ldx + idx[k]];
            float *ci = c + i * ldc;
            if (trans_f)
                for (int64_t j = 0; j < n; j++) ci[j] += xv * f[j * ldf + k];
            else
                for (int64_t j = 0; j < n; j++) ci[j] += xv * f[k * ldf + j];
        }
}

static void loop_gemm_scatter(const float *a, int64_t m, int64_t kdim, int64_t lda, const float *f, int64_t ldf,
                              int trans_f, const int32_t *idx, int64_t r, float alpha, float *c, int64_t ldc) {
    for (int64_t i = 0; i < m; i++)
        for (int64_t j = 0; j < r; j++) {
            float acc = 0;
            if (trans_f)
                for (int64_t k = 0; k < kdim; k++) acc += a[i * lda + k] * f[j * ldf + k];
            else
                for (int64_t k = 0; k < kdim; k++) acc += a[i * lda + k] * f[k * ldf + j];
            c[i * ldc + idx[j]] += alpha * acc;
        }
}

/* ---------------------------------------------------------------- the routes the fused kernels replace */

/* xs (m x r) = x[:, idx]; c += alpha * xs * op(f) */
static void route_gather_gemm(const float *x, int64_t m, int64_t cols, int64_t ldx, const int32_t *idx, int64_t r,
                              const float *f, int64_t ldf, int trans_f, int64_t n, float alpha, float *c, int64_t ldc,
                              float *xs) {
    sb_gather_cols(x, m, cols, ldx, idx, r, xs, r);
    cblas_sgemm(CblasRowMajor, CblasNoTrans, trans_f ? CblasTrans : CblasNoTrans, (int)m, (int)n, (int)r, alpha, xs,
                (int)r, f, (int)ldf, 1.0f, c, (int)ldc);
}

/* t (m x r) = a * op(f); c[:, idx] += alpha * t */
static void route_gemm_scatter(const float *a, int64_t m, int64_t kdim, int64_t lda, const float *f, int64_t ldf,
                               int trans_f, const int32_t *idx, int64_t r, float alpha, float *c, int64_t cols,
                               int64_t ldc, float *t) {
    cblas_sgemm(CblasRowMajor, CblasNoTrans, trans_f ? CblasTrans : CblasNoTrans, (int)m, (int)r, (int)kdim, 1.0f, a,
                (int)lda, f, (int)ldf, 0.0f, t, (int)r);
    sb_index_add_cols(c, m, cols, ldc, idx, r, t, r, alpha);
}

/* ---------------------------------------------------------------- correctness */

static int failures = 0;

static void expect(int ok, const char *what) {
    if (!ok) {
        failures++;
        printf("FAIL %s\n", what);
    }
}

/* |got - want| <= tol * max(1, |want|) everywhere; returns the largest relative error. */
static double compare(const float *got, const float *want, int64_t n, double tol, const char *what) {
    double worst = 0;
    for (int64_t i = 0; i < n; i++) {
        double e = fabs((double)got[i] - (double)want[i]) / fmax(1.0, fabs((double)want[i]));
        if (!(e <= tol)) {
            printf("FAIL %s at %lld: got %.9g want %.9g\n", what, (long long)i, got[i], want[i]);
            failures++;
            return e;
        }
        if (e > worst) worst = e;
    }
    return worst;
}

static void check_gather_gemm(int64_t m, int64_t cols, int64_t ldx, int64_t r, int64_t n, int trans_f, int64_t ldf,
                              int64_t ldc, int64_t ldxs, int with_xs) {
    char what[200];
    snprintf(what, sizeof what, "gather_gemm m=%lld cols=%lld ldx=%lld r=%lld n=%lld trans=%d ldf=%lld ldc=%lld xs=%d",
             (long long)m, (long long)cols, (long long)ldx, (long long)r, (long long)n, trans_f, (long long)ldf,
             (long long)ldc, with_xs);
    float *x = alloc_floats(m * ldx + 1);
    int32_t *idx = make_idx(r, cols);
    int64_t frows = trans_f ? n : r;
    float *f = alloc_floats(frows * ldf + 1);
    float *c = alloc_floats(m * ldc + 1), *cref = alloc_floats(m * ldc + 1);
    memcpy(cref, c, (size_t)(m * ldc + 1) * 4);
    float *xs = with_xs ? alloc_floats(m * ldxs + 1) : NULL, *xsref = with_xs ? alloc_floats(m * ldxs + 1) : NULL;
    if (with_xs) memcpy(xsref, xs, (size_t)(m * ldxs + 1) * 4);
    const float alpha = 0.75f;
    ref_gather_gemm(x, m, ldx, idx, r, f, ldf, trans_f, n, alpha, cref, ldc, xsref, ldxs);
    int st = sb_gather_gemm(x, m, ldx, idx, r, f, ldf, trans_f, n, alpha, c, ldc, xs, ldxs);
    expect(st == SB_OK, what);
    /* The tests' tolerance (CpuMatchesReferenceProperties: 1e-5 * k); elements between rows (padding of ldc)
     * must be untouched, so the whole buffer is compared. */
    compare(c, cref, m * ldc + 1, 1e-5 * (double)(r > 1 ? r : 1), what);
    if (with_xs) {
        int same = memcmp(xs, xsref, (size_t)(m * ldxs + 1) * 4) == 0;
        expect(same, what);
    }
    free(x);
    free(idx);
    free(f);
    free(c);
    free(cref);
    free(xs);
    free(xsref);
}

static void check_gemm_scatter(int64_t m, int64_t kdim, int64_t lda, int64_t cols, int64_t r, int trans_f,
                               int64_t ldf, int64_t ldc) {
    char what[200];
    snprintf(what, sizeof what, "gemm_scatter m=%lld kdim=%lld lda=%lld cols=%lld r=%lld trans=%d ldf=%lld ldc=%lld",
             (long long)m, (long long)kdim, (long long)lda, (long long)cols, (long long)r, trans_f, (long long)ldf,
             (long long)ldc);
    float *a = alloc_floats(m * lda + 1);
    int32_t *idx = make_idx(r, cols);
    int64_t frows = trans_f ? r : kdim;
    float *f = alloc_floats(frows * ldf + 1);
    float *c = alloc_floats(m * ldc + 1), *cref = alloc_floats(m * ldc + 1);
    memcpy(cref, c, (size_t)(m * ldc + 1) * 4);
    const float alpha = -1.25f;
    ref_gemm_scatter(a, m, kdim, lda, f, ldf, trans_f, idx, r, alpha, cref, ldc);
    int st = sb_gemm_scatter(a, m, kdim, lda, f, ldf, trans_f, idx, r, alpha, c, ldc);
    expect(st == SB_OK, what);
    compare(c, cref, m * ldc + 1, 1e-5 * (double)(kdim > 1 ? kdim : 1), what);
    /* columns outside idx are not touched at all */
    char *hit = calloc((size_t)ldc, 1);
    for (int64_t j = 0; j < r; j++) hit[idx[j]] = 1;
    int untouched = 1;
    for (int64_t i = 0; i < m; i++)
        for (int64_t j = 0; j < ldc; j++)
            if (!hit[j] && memcmp(&c[i * ldc + j], &cref[i * ldc + j], 4) != 0) untouched = 0;
    expect(untouched, what);
    free(hit);
    free(a);
    free(idx);
    free(f);
    free(c);
    free(cref);
}

static void check_gemm_tn_small(int64_t m, int64_t n, int64_t lda, int64_t r, int64_t ldb, int64_t ldc) {
    char what[200];
    snprintf(what, sizeof what, "gemm_tn_small m=%lld n=%lld lda=%lld r=%lld ldb=%lld ldc=%lld", (long long)m,
             (long long)n, (long long)lda, (long long)r, (long long)ldb, (long long)ldc);
    float *a = alloc_floats(m * lda + 1), *b = alloc_floats(m * ldb + 1);
    float *c = alloc_floats(n * ldc + 1), *cref = alloc_floats(n * ldc + 1);
    memcpy(cref, c, (size_t)(n * ldc + 1) * 4);
    ref_gemm_tn_small(a, m, n, lda, b, r, ldb, 0.625f, cref, ldc);
    expect(sb_gemm_tn_small(a, m, n, lda, b, r, ldb, 0.625f, c, ldc) == SB_OK, what);
    /* padding between c's rows is not touched */
    compare(c, cref, n * ldc + 1, 1e-5 * (double)(m > 1 ? m : 1), what);
    free(a);
    free(b);
    free(c);
    free(cref);
}

static void check_errors(void) {
    float v[64] = {0};
    int32_t idx[4] = {0, 1, 2, 3}, bad[2] = {0, 8}, neg[2] = {-1, 0};
    expect(sb_gather_gemm(v, 2, 4, idx, 2, v, 4, 0, 4, 1.0f, v, 3, NULL, 0) == SB_ERR_ARG, "gather_gemm ldc < n");
    expect(sb_gather_gemm(v, 2, 4, idx, 2, v, 1, 1, 4, 1.0f, v, 4, NULL, 0) == SB_ERR_ARG, "gather_gemm ldf < r");
    expect(sb_gather_gemm(v, 2, 4, idx, 2, v, 3, 0, 4, 1.0f, v, 4, NULL, 0) == SB_ERR_ARG, "gather_gemm ldf < n");
    expect(sb_gather_gemm(v, 2, 4, idx, 2, v, 4, 0, 4, 1.0f, v, 4, v, 1) == SB_ERR_ARG, "gather_gemm ldxs < r");
    expect(sb_gather_gemm(v, -1, 4, idx, 2, v, 4, 0, 4, 1.0f, v, 4, NULL, 0) == SB_ERR_ARG, "gather_gemm m < 0");
    expect(sb_gather_gemm(NULL, 2, 4, idx, 2, v, 4, 0, 4, 1.0f, v, 4, NULL, 0) == SB_ERR_ARG, "gather_gemm x NULL");
    expect(sb_gather_gemm(v, 2, 4, bad, 2, v, 4, 0, 4, 1.0f, v, 4, NULL, 0) == SB_ERR_INDEX, "gather_gemm idx >= ldx");
    expect(sb_gather_gemm(v, 2, 4, neg, 2, v, 4, 0, 4, 1.0f, v, 4, NULL, 0) == SB_ERR_INDEX, "gather_gemm idx < 0");
    expect(sb_gather_gemm(NULL, 0, 4, NULL, 2, NULL, 4, 0, 4, 1.0f, NULL, 4, NULL, 0) == SB_OK, "gather_gemm m = 0");
    expect(sb_gather_gemm(v, 2, 4, idx, 2, NULL, 4, 0, 0, 1.0f, NULL, 0, NULL, 0) == SB_OK, "gather_gemm n = 0");
    expect(sb_gemm_scatter(v, 2, 4, 3, v, 2, 0, idx, 2, 1.0f, v, 4) == SB_ERR_ARG, "gemm_scatter lda < kdim");
    expect(sb_gemm_scatter(v, 2, 4, 4, v, 1, 0, idx, 2, 1.0f, v, 4) == SB_ERR_ARG, "gemm_scatter ldf < r");
    expect(sb_gemm_scatter(v, 2, 4, 4, v, 3, 1, idx, 2, 1.0f, v, 4) == SB_ERR_ARG, "gemm_scatter ldf < kdim");
    expect(sb_gemm_scatter(v, 2, 4, 4, v, 2, 0, NULL, 2, 1.0f, v, 4) == SB_ERR_ARG, "gemm_scatter idx NULL");
    expect(sb_gemm_scatter(v, 2, 4, 4, v, 2, 0, bad, 2, 1.0f, v, 4) == SB_ERR_INDEX, "gemm_scatter idx >= ldc");
    expect(sb_gemm_scatter(v, 2, 4, 4, v, 2, 0, neg, 2, 1.0f, v, 4) == SB_ERR_INDEX, "gemm_scatter idx < 0");
    expect(sb_gemm_scatter(NULL, 0, 4, 4, NULL, 2, 0, NULL, 2, 1.0f, NULL, 4) == SB_OK, "gemm_scatter m = 0");
    expect(sb_gemm_scatter(NULL, 2, 0, 0, NULL, 2, 0, idx, 2, 1.0f, v, 4) == SB_OK, "gemm_scatter kdim = 0");
    expect(sb_gemm_tn_small(v, 2, 4, 3, v, 2, 2, 1.0f, v, 2) == SB_ERR_ARG, "gemm_tn_small lda < n");
    expect(sb_gemm_tn_small(v, 2, 4, 4, v, 2, 1, 1.0f, v, 2) == SB_ERR_ARG, "gemm_tn_small ldb < r");
    expect(sb_gemm_tn_small(v, 2, 4, 4, v, 2, 2, 1.0f, v, 1) == SB_ERR_ARG, "gemm_tn_small ldc < r");
    expect(sb_gemm_tn_small(NULL, 2, 4, 4, v, 2, 2, 1.0f, v, 2) == SB_ERR_ARG, "gemm_tn_small a NULL");
    expect(sb_gemm_tn_small(NULL, 2, 0, 4, NULL, 2, 2, 1.0f, NULL, 2) == SB_OK, "gemm_tn_small n = 0");
    v[0] = 5.0f;
    expect(sb_gemm_tn_small(NULL, 0, 4, 4, NULL, 2, 2, 1.0f, v, 2) == SB_OK && v[0] == 0.0f, "gemm_tn_small m = 0 zeroes c");
}

static void run_checks(void) {
    const int threads[2] = {1, 2};
    for (int ti = 0; ti < 2; ti++) {
        sb_set_num_threads(threads[ti]);
        /* m, cols (x's columns), ldx, r, n, trans, ldf, ldc, ldxs, xs */
        for (int trans = 0; trans <= 1; trans++) {
            const int64_t ms[] = {1, 3, 4, 5, 17, 64, 65, 130, 700};
            const int64_t ns[] = {1, 7, 15, 16, 17, 31, 33, 100, 129, 300};
            const int64_t rs[] = {1, 2, 7, 16, 17, 31, 64, 65, 130};
            for (size_t mi = 0; mi < sizeof ms / sizeof *ms; mi++)
                for (size_t ni = 0; ni < sizeof ns / sizeof *ns; ni++)
                    for (size_t ri = 0; ri < sizeof rs / sizeof *rs; ri++) {
                        int64_t m = ms[mi], n = ns[ni], r = rs[ri], cols = r + 3 + (int64_t)ni;
                        if (m * n * r > 3000000) continue;
                        int64_t ldf = (trans ? r : n) + (int64_t)(mi % 3);
                        check_gather_gemm(m, cols, cols + (int64_t)(ri % 2) * 5, r, n, trans, ldf,
                                          n + (int64_t)(ni % 2) * 3, r + (int64_t)(mi % 2), (int)((mi + ri) % 2));
                    }
            /* r = n (and r = cols): the whole of x */
            check_gather_gemm(33, 40, 40, 40, 40, trans, 40, 40, 40, 1);
            check_gather_gemm(1, 5, 5, 5, 5, trans, 5, 5, 5, 1);
            /* n = 0 still writes xs */
            check_gather_gemm(20, 9, 9, 4, 0, trans, trans ? 4 : 1, 0, 4, 1);
            /* large enough to use both threads both ways */
            check_gather_gemm(3000, 300, 301, 16, 257, trans, trans ? 17 : 260, 259, 16, 1);
            check_gather_gemm(9, 300, 300, 64, 6000, trans, trans ? 64 : 6000, 6000, 64, 1);

            const int64_t ks[] = {1, 5, 16, 17, 100, 255, 256, 257, 600, 1500};
            for (size_t mi = 0; mi < sizeof ms / sizeof *ms; mi++)
                for (size_t ki = 0; ki < sizeof ks / sizeof *ks; ki++)
                    for (size_t ri = 0; ri < sizeof rs / sizeof *rs; ri++) {
                        int64_t m = ms[mi], kdim = ks[ki], r = rs[ri], cols = r + 2 + (int64_t)ki;
                        if (m * kdim * r > 3000000) continue;
                        int64_t ldf = (trans ? kdim : r) + (int64_t)(ki % 3);
                        check_gemm_scatter(m, kdim, kdim + (int64_t)(mi % 2) * 3, cols, r, trans, ldf,
                                           cols + (int64_t)(ri % 2) * 4);
                    }
            check_gemm_scatter(33, 40, 40, 40, 40, trans, 40, 40); /* r = every column of c */
            check_gemm_scatter(4000, 300, 300, 64, 16, trans, trans ? 300 : 16, 64);
            check_gemm_scatter(3, 20000, 20000, 100, 64, trans, trans ? 20000 : 64, 100);
        }
    }
    for (int ti = 0; ti < 2; ti++) {
        sb_set_num_threads(threads[ti]);
        const int64_t ms[] = {1, 3, 255, 256, 257, 700}, ns[] = {1, 15, 16, 17, 31, 32, 33, 100, 1000}, rs[] = {1, 3, 4, 8, 9, 16, 17, 33, 64, 70};
        for (size_t mi = 0; mi < sizeof ms / sizeof *ms; mi++)
            for (size_t ni = 0; ni < sizeof ns / sizeof *ns; ni++)
                for (size_t ri = 0; ri < sizeof rs / sizeof *rs; ri++)
                    check_gemm_tn_small(ms[mi], ns[ni], ns[ni] + (int64_t)(mi % 2) * 3, rs[ri], rs[ri] + (int64_t)(ni % 2),
                                        rs[ri] + (int64_t)(ri % 2) * 2);
        check_gemm_tn_small(1024, 4096, 4096, 16, 16, 16); /* both threads */
    }
    check_errors();
    sb_set_num_threads(0);
    printf("check: %s (%d failures)\n", failures == 0 ? "ok" : "FAILED", failures);
}

/* ---------------------------------------------------------------- timing */

static int reps = 7;

/* Best of reps runs after one warm-up, in seconds. */
#define TIME_BEST(out, stmt)                                                                                          \
    do {                                                                                                              \
        stmt;                                                                                                         \
        double best_ = 1e30;                                                                                          \
        for (int rep_ = 0; rep_ < reps; rep_++) {                                                                     \
            double t0_ = now();                                                                                       \
            stmt;                                                                                                     \
            double t_ = now() - t0_;                                                                                  \
            if (t_ < best_) best_ = t_;                                                                               \
        }                                                                                                             \
        (out) = best_;                                                                                                \
    } while (0)

/* Variants compared with one another are timed in turns (a, b, a, b, ...), each keeping its best: on a machine that
 * others share, a burst of load then hits both alike instead of one of them. */
#define TIME_ONE_(best, stmt)                                                                                         \
    do {                                                                                                              \
        double t0_ = now();                                                                                           \
        stmt;                                                                                                         \
        double t_ = now() - t0_;                                                                                      \
        if (t_ < (best)) (best) = t_;                                                                                 \
    } while (0)
#define TIME_PAIR(oa, sa, ob, sb)                                                                                     \
    do {                                                                                                              \
        sa;                                                                                                           \
        sb;                                                                                                           \
        double a_ = 1e30, b_ = 1e30;                                                                                  \
        for (int rep_ = 0; rep_ < reps; rep_++) {                                                                     \
            TIME_ONE_(a_, sa);                                                                                        \
            TIME_ONE_(b_, sb);                                                                                        \
        }                                                                                                             \
        (oa) = a_;                                                                                                    \
        (ob) = b_;                                                                                                    \
    } while (0)

static void set_threads(int nt) {
    sb_set_num_threads(nt);
    openblas_set_num_threads(nt);
}

static void bench_kernels(const int *threads, int nthreads) {
    const char *quick = getenv("SBG_SHAPES");
    const int64_t ms_all[] = {1, 128, 1024, 4096}, ns_all[] = {512, 1376, 2048, 4096, 5632}, rs[] = {1, 8, 16, 64};
    const int64_t ms_q[] = {1, 1024}, ns_q[] = {4096};
    const int64_t *ms = ms_all, *ns = ns_all;
    size_t nm = 4, nn = 5;
    if (quick != NULL && strcmp(quick, "quick") == 0) {
        ms = ms_q;
        ns = ns_q;
        nm = 2;
        nn = 1;
    }
    printf("\nkernel        thr     m     n     r |   fused ms   GF/s |   route ms   GF/s |    loop ms   GF/s | fused/route\n");
    for (int ti = 0; ti < nthreads; ti++) {
        set_threads(threads[ti]);
        for (int which = 0; which < 4; which++) { /* gather fwd (trans), gather (no trans), scatter, scatter (trans) */
            for (size_t mi = 0; mi < nm; mi++)
                for (size_t ni = 0; ni < nn; ni++)
                    for (size_t ri = 0; ri < 4; ri++) {
                        const int64_t m = ms[mi], n = ns[ni], r = rs[ri];
                        const int gather = which < 2, trans = which == 0 || which == 3;
                        /* gather: x is m x n (n input columns, as a square layer), c m x n.
                         * scatter: a is m x n (kdim = n), c m x n. */
                        float *x = alloc_floats(m * n), *c = alloc_floats(m * n), *f = alloc_floats(n * r);
                        float *tmp = alloc_floats(m * r);
                        int32_t *idx = make_idx(r, n);
                        double tf, tr, tl = -1;
                        const float alpha = 0.5f;
                        const double flops = 2.0 * (double)m * (double)n * (double)r;
                        const int64_t ldf = gather ? (trans ? r : n) : (trans ? n : r);
                        if (gather) {
                            TIME_PAIR(tf, sb_gather_gemm(x, m, n, idx, r, f, ldf, trans, n, alpha, c, n, tmp, r), tr,
                                      route_gather_gemm(x, m, n, n, idx, r, f, ldf, trans, n, alpha, c, n, tmp));
                        } else {
                            TIME_PAIR(tf, sb_gemm_scatter(x, m, n, n, f, ldf, trans, idx, r, alpha, c, n), tr,
                                      route_gemm_scatter(x, m, n, n, f, ldf, trans, idx, r, alpha, c, n, n, tmp));
                        }
                        if (threads[ti] == 1 && flops <= 4e8) { /* the plain loop once, single-threaded only */
                            double t0 = now();
                            if (gather)
                                loop_gather_gemm(x, m, n, idx, r, f, ldf, trans, n, alpha, c, n);
                            else
                                loop_gemm_scatter(x, m, n, n, f, ldf, trans, idx, r, alpha, c, n);
                            tl = now() - t0;
                        }
                        const char *name = which == 0   ? "gather_gemm T"
                                           : which == 1 ? "gather_gemm N"
                                           : which == 2 ? "gemm_scatt N"
                                                        : "gemm_scatt T";
                        printf("%-13s %3d %5lld %5lld %5lld | %10.4f %6.1f | %10.4f %6.1f | ", name, threads[ti],
                               (long long)m, (long long)n, (long long)r, tf * 1e3, flops / tf * 1e-9, tr * 1e3,
                               flops / tr * 1e-9);
                        if (tl >= 0)
                            printf("%10.4f %6.1f", tl * 1e3, flops / tl * 1e-9);
                        else
                            printf("%10s %6s", "-", "-");
                        printf(" | %6.2f\n", tf / tr);
                        fflush(stdout);
                        free(x);
                        free(c);
                        free(f);
                        free(tmp);
                        free(idx);
                    }
        }
    }
}

/* ---------------------------------------------------------------- dB = s * dy^T * xs, a hand-written kernel */

/* db (n x r, row-major) = alpha * dy^T (n x T) * xs (T x r): vectorised over n (dy's rows are contiguous along n),
 * a tile of 32 n x 8 k accumulates over all T in registers, then is stored transposed. A candidate that the
 * "smalln" table weighs against cblas_sgemm; its T-blocked form (hand_db3) became the library's sb_gemm_tn_small. */
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define BENCH_CLONES __attribute__((target_clones("avx512f", "arch=haswell", "default")))
#else
#define BENCH_CLONES
#endif
BENCH_CLONES static void hand_db_cols(const float *dy, int64_t T, int64_t n, const float *xs, int64_t r, float alpha,
                                      float *db, int64_t o0, int64_t o1) {
    for (int64_t o = o0; o < o1; o += 32) {
        const int64_t ow = o1 - o < 32 ? o1 - o : 32;
        for (int64_t k0 = 0; k0 < r; k0 += 8) {
            const int64_t kw = r - k0 < 8 ? r - k0 : 8;
            float acc[8][2][16];
            _Pragma("GCC unroll 8") for (int k = 0; k < 8; k++)
                _Pragma("GCC unroll 2") for (int v = 0; v < 2; v++)
                    _Pragma("GCC unroll 1") for (int l = 0; l < 16; l++) acc[k][v][l] = 0.0f;
            if (ow == 32 && kw == 8) {
                for (int64_t t = 0; t < T; t++) {
                    const float *d = dy + t * n + o, *x = xs + t * r + k0;
                    _Pragma("GCC unroll 8") for (int k = 0; k < 8; k++) {
                        const float xv = x[k];
                        _Pragma("GCC unroll 2") for (int v = 0; v < 2; v++)
                            _Pragma("GCC unroll 1") for (int l = 0; l < 16; l++)
                                acc[k][v][l] = fmaf(xv, d[v * 16 + l], acc[k][v][l]);
                    }
                }
            } else {
                for (int64_t t = 0; t < T; t++)
                    for (int64_t k = 0; k < kw; k++)
                        for (int64_t j = 0; j < ow; j++)
                            acc[k][j / 16][j % 16] = fmaf(xs[t * r + k0 + k], dy[t * n + o + j], acc[k][j / 16][j % 16]);
            }
            for (int64_t j = 0; j < ow; j++)
                for (int64_t k = 0; k < kw; k++) db[(o + j) * r + k0 + k] = alpha * acc[k][j / 16][j % 16];
        }
    }
}

static void hand_db(const float *dy, int64_t T, int64_t n, const float *xs, int64_t r, float alpha, float *db,
                    int nt) {
#pragma omp parallel num_threads(nt)
    {
        const int tid = omp_get_thread_num(), nth = omp_get_num_threads();
        const int64_t blocks = (n + 31) / 32;
        const int64_t lo = blocks * tid / nth * 32, hi = blocks * (tid + 1) / nth * 32;
        if (lo < n) hand_db_cols(dy, T, n, xs, r, alpha, db, lo, hi < n ? hi : n);
    }
}

/* hand_db with T blocked: a strip of dy (TB rows x 32 columns, 32 KiB) stays in L1 while every 8 of r go past it;
 * each block's 32 x 8 tile is added into db (transposed, element by element). */
#define HDB3_TB 256
BENCH_CLONES static void hand_db3_cols(const float *dy, int64_t T, int64_t n, const float *xs, int64_t r, float alpha,
                                       float *db, int64_t o0, int64_t o1) {
    for (int64_t t0 = 0; t0 < T; t0 += HDB3_TB) {
        const int64_t tb = T - t0 < HDB3_TB ? T - t0 : HDB3_TB;
        for (int64_t o = o0; o < o1; o += 32) {
            const int64_t ow = o1 - o < 32 ? o1 - o : 32;
            for (int64_t k0 = 0; k0 < r; k0 += 8) {
                const int64_t kw = r - k0 < 8 ? r - k0 : 8;
                float acc[8][2][16];
                _Pragma("GCC unroll 8") for (int k = 0; k < 8; k++)
                    _Pragma("GCC unroll 2") for (int v = 0; v < 2; v++)
                        _Pragma("GCC unroll 1") for (int l = 0; l < 16; l++) acc[k][v][l] = 0.0f;
                if (ow == 32 && kw == 8) {
                    for (int64_t t = t0; t < t0 + tb; t++) {
                        const float *d = dy + t * n + o, *x = xs + t * r + k0;
                        _Pragma("GCC unroll 8") for (int k = 0; k < 8; k++) {
                            const float xv = x[k];
                            _Pragma("GCC unroll 2") for (int v = 0; v < 2; v++)
                                _Pragma("GCC unroll 1") for (int l = 0; l < 16; l++)
                                    acc[k][v][l] = fmaf(xv, d[v * 16 + l], acc[k][v][l]);
                        }
                    }
                } else {
                    for (int64_t t = t0; t < t0 + tb; t++)
                        for (int64_t k = 0; k < kw; k++)
                            for (int64_t j = 0; j < ow; j++)
                                acc[k][j / 16][j % 16] =
                                    fmaf(xs[t * r + k0 + k], dy[t * n + o + j], acc[k][j / 16][j % 16]);
                }
                for (int64_t j = 0; j < ow; j++)
                    for (int64_t k = 0; k < kw; k++) {
                        float *p = db + (o + j) * r + k0 + k;
                        *p = t0 == 0 ? alpha * acc[k][j / 16][j % 16] : fmaf(alpha, acc[k][j / 16][j % 16], *p);
                    }
            }
        }
    }
}

static void hand_db3(const float *dy, int64_t T, int64_t n, const float *xs, int64_t r, float alpha, float *db,
                     int nt) {
#pragma omp parallel num_threads(nt)
    {
        const int tid = omp_get_thread_num(), nth = omp_get_num_threads();
        const int64_t blocks = (n + 31) / 32;
        const int64_t lo = blocks * tid / nth * 32, hi = blocks * (tid + 1) / nth * 32;
        if (lo < n) hand_db3_cols(dy, T, n, xs, r, alpha, db, lo, hi < n ? hi : n);
    }
}

/* The same product in the broadcast form of the library's scatter tiles: a tile of MR rows of db (MR consecutive
 * columns of dy, broadcast one at a time) x rp (r rounded up to 16) accumulates over a block of T, then is added
 * into db rows. xs's block is packed zero-padded (rp wide), so no tail handling is needed; dy is read in place. */
#define HDB_TILE(RP, MR)                                                                                             \
    static inline __attribute__((always_inline)) void hdb_tile_##RP##_##MR(int64_t tb, const float *dy, int64_t n, \
                                                                           const float *xp, float *acc_out) {      \
        float acc[MR][RP / 16][16];                                                                                \
        _Pragma("GCC unroll 64") for (int i = 0; i < MR; i++)                                                      \
            _Pragma("GCC unroll 64") for (int v = 0; v < RP / 16; v++)                                             \
                _Pragma("GCC unroll 1") for (int l = 0; l < 16; l++) acc[i][v][l] = 0.0f;                          \
        for (int64_t t = 0; t < tb; t++) {                                                                         \
            const float *xr = xp + t * RP;                                                                         \
            _Pragma("GCC unroll 64") for (int i = 0; i < MR; i++) {                                                \
                const float dv = dy[t * n + i];                                                                    \
                _Pragma("GCC unroll 64") for (int v = 0; v < RP / 16; v++)                                         \
                    _Pragma("GCC unroll 1") for (int l = 0; l < 16; l++)                                           \
                        acc[i][v][l] = fmaf(dv, xr[v * 16 + l], acc[i][v][l]);                                      \
            }                                                                                                      \
        }                                                                                                          \
        _Pragma("GCC unroll 64") for (int i = 0; i < MR; i++)                                                      \
            _Pragma("GCC unroll 64") for (int v = 0; v < RP / 16; v++)                                             \
                _Pragma("GCC unroll 1") for (int l = 0; l < 16; l++) acc_out[(i * (RP / 16) + v) * 16 + l] = acc[i][v][l]; \
    }
#define HDB_ROWS(RP, MR)                                                                                             \
    HDB_TILE(RP, MR)                                                                                                 \
    HDB_TILE(RP, 1)                                                                                                  \
    BENCH_CLONES static void hdb_rows_##RP(int64_t tb, const float *dy, int64_t n, const float *xp, int64_t o0,     \
                                           int64_t o1, int64_t r, float alpha, int first, float *db) {              \
        float acc[MR * RP];                                                                                          \
        for (int64_t o = o0; o < o1;) {                                                                              \
            const int64_t mr = o1 - o >= MR ? MR : 1;                                                                \
            if (mr == MR) hdb_tile_##RP##_##MR(tb, dy + o, n, xp, acc);                                              \
            else hdb_tile_##RP##_1(tb, dy + o, n, xp, acc);                                                          \
            for (int64_t i = 0; i < mr; i++) {                                                                       \
                float *d = db + (o + i) * r;                                                                         \
                const float *ai = acc + i * RP;                                                                      \
                if (first)                                                                                           \
                    for (int64_t k = 0; k < r; k++) d[k] = alpha * ai[k];                                            \
                else                                                                                                 \
                    for (int64_t k = 0; k < r; k++) d[k] = fmaf(alpha, ai[k], d[k]);                                 \
            }                                                                                                        \
            o += mr;                                                                                                 \
        }                                                                                                            \
    }
HDB_ROWS(16, 12)
HDB_ROWS(32, 8)
HDB_ROWS(48, 8)
HDB_ROWS(64, 6)

static void hand_db2(const float *dy, int64_t T, int64_t n, const float *xs, int64_t r, float alpha, float *db,
                     int nt) {
    const int64_t rp = (r + 15) / 16 * 16; /* r <= 64 here */
    const int64_t tbmax = 16384 / rp;
#pragma omp parallel num_threads(nt)
    {
        const int tid = omp_get_thread_num(), nth = omp_get_num_threads();
        const int64_t o0 = n * tid / nth, o1 = n * (tid + 1) / nth;
        float xp[16384];
        for (int64_t t0 = 0; t0 < T; t0 += tbmax) {
            const int64_t tb = T - t0 < tbmax ? T - t0 : tbmax;
            for (int64_t t = 0; t < tb; t++)
                for (int64_t k = 0; k < rp; k++) xp[t * rp + k] = k < r ? xs[(t0 + t) * r + k] : 0.0f;
            const float *d = dy + t0 * n;
            switch (rp) {
            case 16: hdb_rows_16(tb, d, n, xp, o0, o1, r, alpha, t0 == 0, db); break;
            case 32: hdb_rows_32(tb, d, n, xp, o0, o1, r, alpha, t0 == 0, db); break;
            case 48: hdb_rows_48(tb, d, n, xp, o0, o1, r, alpha, t0 == 0, db); break;
            default: hdb_rows_64(tb, d, n, xp, o0, o1, r, alpha, t0 == 0, db); break;
            }
        }
    }
}

/* SBoRA-FA's whole backward in one pass over dy: t = dy*B scattered into dx[:, idx] and dB = s*dy^T*xs. A tile of
 * MR rows keeps its xs rows and its t sums in registers; for each column o of dy it broadcasts dy[i, o] once for
 * both products: t[i, :] += dy[i, o] * B[o, :] and dB[o, :] += dy[i, o] * xs[i, :] (dB's rows updated in place,
 * a block of them small enough for L1). Threads split the columns o (each owns its dB rows); their partial t of a
 * block of rows are added in thread order before the scatter. Candidate only (r = 16 and 32 here). */
#define DUAL_MB 256
#define DUAL_DEF(RP, MR)                                                                                             \
    static inline __attribute__((always_inline)) void dual_tile_##RP(int64_t kb, const float *dy, int64_t lda,     \
                                                                     const float *B, const float *xs, float *dB,    \
                                                                     float *t) {                                    \
        float xr[MR][RP / 16][16], acc[MR][RP / 16][16];                                                           \
        _Pragma("GCC unroll 64") for (int i = 0; i < MR; i++)                                                      \
            _Pragma("GCC unroll 64") for (int v = 0; v < RP / 16; v++)                                             \
                _Pragma("GCC unroll 1") for (int l = 0; l < 16; l++) {                                             \
                    xr[i][v][l] = xs[i * RP + v * 16 + l];                                                         \
                    acc[i][v][l] = 0.0f;                                                                           \
                }                                                                                                  \
        for (int64_t o = 0; o < kb; o++) {                                                                         \
            const float *br = B + o * RP;                                                                          \
            float *dr = dB + o * RP, db[RP / 16][16];                                                              \
            _Pragma("GCC unroll 64") for (int v = 0; v < RP / 16; v++)                                             \
                _Pragma("GCC unroll 1") for (int l = 0; l < 16; l++) db[v][l] = dr[v * 16 + l];                    \
            _Pragma("GCC unroll 64") for (int i = 0; i < MR; i++) {                                                \
                const float a = dy[i * lda + o];                                                                   \
                _Pragma("GCC unroll 64") for (int v = 0; v < RP / 16; v++)                                         \
                    _Pragma("GCC unroll 1") for (int l = 0; l < 16; l++) {                                         \
                        acc[i][v][l] = fmaf(a, br[v * 16 + l], acc[i][v][l]);                                      \
                        db[v][l] = fmaf(a, xr[i][v][l], db[v][l]);                                                 \
                    }                                                                                              \
            }                                                                                                      \
            _Pragma("GCC unroll 64") for (int v = 0; v < RP / 16; v++)                                             \
                _Pragma("GCC unroll 1") for (int l = 0; l < 16; l++) dr[v * 16 + l] = db[v][l];                    \
        }                                                                                                          \
        _Pragma("GCC unroll 64") for (int i = 0; i < MR; i++)                                                      \
            _Pragma("GCC unroll 64") for (int v = 0; v < RP / 16; v++)                                             \
                _Pragma("GCC unroll 1") for (int l = 0; l < 16; l++) t[i * RP + v * 16 + l] += acc[i][v][l];       \
    }                                                                                                              \
    BENCH_CLONES static void dual_rows_##RP(const float *dy, int64_t lda, const float *B, const float *xs,         \
                                            float *dB, int64_t o0, int64_t o1, float *t, int64_t i0, int64_t i1) { \
        const int64_t KB = 4096 / RP;                                                                              \
        for (int64_t i = 0; i < (i1 - i0) * RP; i++) t[i] = 0.0f;                                                  \
        for (int64_t ob = o0; ob < o1; ob += KB) {                                                                 \
            const int64_t kb = o1 - ob < KB ? o1 - ob : KB;                                                        \
            for (int64_t i = i0; i + MR <= i1; i += MR)                                                            \
                dual_tile_##RP(kb, dy + i * lda + ob, lda, B + ob * RP, xs + i * RP, dB + ob * RP,                 \
                               t + (i - i0) * RP);                                                                 \
        }                                                                                                          \
    }
DUAL_DEF(16, 8)
DUAL_DEF(32, 4)

/* T a multiple of 8, r 16 or 32, B and xs with leading dimension r */
static void dual_fa_backward(const float *dy, int64_t T, int64_t d, const float *B, const float *xs,
                             const int32_t *idx, int64_t r, float s, float *dx, float *dB, int nt) {
    float *parts[64];
    if (nt > 64) nt = 64;
#pragma omp parallel num_threads(nt)
    {
        const int tid = omp_get_thread_num(), nth = omp_get_num_threads();
        const int64_t o0 = d * tid / nth / 16 * 16, o1 = tid == nth - 1 ? d : d * (tid + 1) / nth / 16 * 16;
        float tp[DUAL_MB * 32];
        for (int64_t i = o0 * r; i < o1 * r; i++) dB[i] = 0.0f;
        for (int64_t ib = 0; ib < T; ib += DUAL_MB) {
            const int64_t i1 = ib + DUAL_MB < T ? ib + DUAL_MB : T;
            if (r == 16) dual_rows_16(dy, d, B, xs, dB, o0, o1, tp, ib, i1);
            else dual_rows_32(dy, d, B, xs, dB, o0, o1, tp, ib, i1);
            parts[tid] = tp;
#pragma omp barrier
#pragma omp for
            for (int64_t i = ib; i < i1; i++)
                for (int64_t j = 0; j < r; j++) {
                    float sum = 0.0f;
                    for (int q = 0; q < nth; q++) sum += parts[q][(i - ib) * r + j];
                    dx[i * d + idx[j]] = fmaf(s, sum, dx[i * d + idx[j]]);
                }
        }
        for (int64_t i = o0 * r; i < o1 * r; i++) dB[i] *= s;
    }
}

/* ---------------------------------------------------------------- the adapter paths */

typedef struct {
    int64_t d, T, r;
    float s;
    float *x, *y, *dy, *dx, *A, *B, *xs, *t, *dA, *dB;
    int32_t *idx;
} layer;

static layer make_layer(int64_t d, int64_t T, int64_t r) {
    layer L = {d, T, r, 2.0f, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL};
    L.x = alloc_floats(T * d);
    L.y = alloc_floats(T * d);
    L.dy = alloc_floats(T * d);
    L.dx = alloc_floats(T * d);
    L.A = alloc_floats(r * d);
    L.B = alloc_floats(d * r);
    L.xs = alloc_floats(T * r);
    L.t = alloc_floats(T * r);
    L.dA = alloc_floats(r * d);
    L.dB = alloc_floats(d * r);
    L.idx = make_idx(r, d);
    return L;
}

static void free_layer(layer *L) {
    free(L->x);
    free(L->y);
    free(L->dy);
    free(L->dx);
    free(L->A);
    free(L->B);
    free(L->xs);
    free(L->t);
    free(L->dA);
    free(L->dB);
    free(L->idx);
}

/* LoRA: xa = x*A^T; y += s*xa*B^T; t = dy*B; dB = s*dy^T*xa; dA = s*t^T*x; dx += s*t*A (xa kept in L.xs) */
static void lora_gemm(layer *L, int which) {
    const int T = (int)L->T, d = (int)L->d, r = (int)L->r;
    switch (which) {
    case 0: cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, T, r, d, 1.0f, L->x, d, L->A, d, 0.0f, L->xs, r); break;
    case 1: cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, T, d, r, L->s, L->xs, r, L->B, r, 1.0f, L->y, d); break;
    case 2: cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, T, r, d, 1.0f, L->dy, d, L->B, r, 0.0f, L->t, r); break;
    case 3: cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, d, r, T, L->s, L->dy, d, L->xs, r, 0.0f, L->dB, r); break;
    case 4: cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, r, d, T, L->s, L->t, r, L->x, d, 0.0f, L->dA, d); break;
    default: cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, T, d, r, L->s, L->t, r, L->A, d, 1.0f, L->dx, d); break;
    }
}

static void lora_path(layer *L) {
    for (int g = 0; g < 6; g++) lora_gemm(L, g);
}

/* SBoRA-FA's three pieces, each by either route: forward y += s*x[:, idx]*B^T (keeping xs), backward
 * dx[:, idx] += s*dy*B, dB = s*dy^T*xs. */
static void fa_fwd_route(layer *L) {
    route_gather_gemm(L->x, L->T, L->d, L->d, L->idx, L->r, L->B, L->r, 1, L->d, L->s, L->y, L->d, L->xs);
}
static void fa_fwd_fused(layer *L) {
    sb_gather_gemm(L->x, L->T, L->d, L->idx, L->r, L->B, L->r, 1, L->d, L->s, L->y, L->d, L->xs, L->r);
}
static void fa_dx_route(layer *L) {
    route_gemm_scatter(L->dy, L->T, L->d, L->d, L->B, L->r, 0, L->idx, L->r, L->s, L->dx, L->d, L->d, L->t);
}
static void fa_dx_fused(layer *L) {
    sb_gemm_scatter(L->dy, L->T, L->d, L->d, L->B, L->r, 0, L->idx, L->r, L->s, L->dx, L->d);
}
static void fa_db_blas(layer *L) {
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)L->d, (int)L->r, (int)L->T, L->s, L->dy, (int)L->d,
                L->xs, (int)L->r, 0.0f, L->dB, (int)L->r);
}
static void fa_db_tn(layer *L) { sb_gemm_tn_small(L->dy, L->T, L->d, L->d, L->xs, L->r, L->r, L->s, L->dB, L->r); }

/* SBoRA-FB: forward y[:, idx] += s*x*A^T; backward dx += s*dy[:, idx]*A (keeping dy[:, idx] in L.t), then
 * dA = s*dy[:, idx]^T*x. */
static void fb_fwd_route(layer *L) {
    route_gemm_scatter(L->x, L->T, L->d, L->d, L->A, L->d, 1, L->idx, L->r, L->s, L->y, L->d, L->d, L->t);
}
static void fb_fwd_fused(layer *L) {
    sb_gemm_scatter(L->x, L->T, L->d, L->d, L->A, L->d, 1, L->idx, L->r, L->s, L->y, L->d);
}
static void fb_dx_route(layer *L) {
    route_gather_gemm(L->dy, L->T, L->d, L->d, L->idx, L->r, L->A, L->d, 0, L->d, L->s, L->dx, L->d, L->t);
}
static void fb_dx_fused(layer *L) {
    sb_gather_gemm(L->dy, L->T, L->d, L->idx, L->r, L->A, L->d, 0, L->d, L->s, L->dx, L->d, L->t, L->r);
}
static void fb_da_blas(layer *L) {
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)L->r, (int)L->d, (int)L->T, L->s, L->t, (int)L->r,
                L->x, (int)L->d, 0.0f, L->dA, (int)L->d);
}

typedef void (*piece)(layer *);

/* The adapter paths, timed in turns: LoRA's, then SBoRA's by the route, fused, and with the faster of the two for
 * each piece (chosen from the pieces' own times, measured in turns as well). */
static void bench_adapter(const int *threads, int nthreads) {
    printf("\nAdapter path, forward + backward, frozen GEMMs excluded (ms, best of %d, variants timed in turns). LoRA: 6 "
           "cblas_sgemm. SBoRA route: gather + sgemm | sgemm + index_add | sgemm (dB or dA); fused: gather_gemm | "
           "gemm_scatter | sgemm (FB: gemm_scatter | gather_gemm | sgemm).\n",
           reps);
    printf("(best: the faster of route and fused for each piece, and for SBoRA-FA's dB the faster of cblas_sgemm and "
           "sb_gemm_tn_small; the sums add the pieces' best times.)\n");
    printf("method    thr     d     T   r |   lora | fwd route fused |  dx route fused | dB/dA blas |  route  fused   best | "
           "route/lora fused/lora best/lora | lora-sum route-sum best-sum | route best (sums) | dB blas tn\n");
    const int64_t ds[] = {2048, 4096}, rs[] = {16, 64};
    for (int ti = 0; ti < nthreads; ti++) {
        set_threads(threads[ti]);
        for (int di = 0; di < 2; di++)
            for (int ri = 0; ri < 2; ri++) {
                layer L = make_layer(ds[di], 1024, rs[ri]);
                for (int fb = 0; fb <= 1; fb++) {
                    piece fr = fb ? fb_fwd_route : fa_fwd_route, ff = fb ? fb_fwd_fused : fa_fwd_fused;
                    piece xr = fb ? fb_dx_route : fa_dx_route, xf = fb ? fb_dx_fused : fa_dx_fused;
                    piece g = fb ? fb_da_blas : fa_db_blas;
                    double tfr, tff, txr, txf, tg = 1e30, lora = 1e30, route = 1e30, fused = 1e30, best = 1e30;
                    double tgb, tgt; /* dB by cblas_sgemm or by sb_gemm_tn_small (FA; FB's dA keeps cblas) */
                    TIME_PAIR(tgb, g(&L), tgt, (fb ? g : fa_db_tn)(&L));
                    piece bg = tgt < tgb ? (fb ? g : fa_db_tn) : g;
                    double lg[6] = {1e30, 1e30, 1e30, 1e30, 1e30, 1e30}, lsum = 0;
                    TIME_PAIR(tfr, fr(&L), tff, ff(&L));
                    TIME_PAIR(txr, xr(&L), txf, xf(&L));
                    piece bf = tff <= tfr ? ff : fr, bx = txf <= txr ? xf : xr;
                    lora_path(&L);
                    for (int rep = 0; rep < reps; rep++) {
                        TIME_ONE_(lora, lora_path(&L));
                        TIME_ONE_(route, {
                            fr(&L);
                            xr(&L);
                            g(&L);
                        });
                        TIME_ONE_(fused, {
                            ff(&L);
                            xf(&L);
                            g(&L);
                        });
                        TIME_ONE_(best, {
                            bf(&L);
                            bx(&L);
                            bg(&L);
                        });
                        TIME_ONE_(tg, g(&L));
                        for (int q = 0; q < 6; q++) TIME_ONE_(lg[q], lora_gemm(&L, q));
                    }
                    for (int q = 0; q < 6; q++) lsum += lg[q];
                    /* Sums of the pieces' best times as well: steadier than whole paths on a busy machine. */
                    const double sroute = tfr + txr + tgb,
                                 sbest = (tff < tfr ? tff : tfr) + (txf < txr ? txf : txr) + (tgt < tgb ? tgt : tgb);
                    printf("%-9s %3d %5lld %5lld %3lld | %6.3f | %6.3f %6.3f | %6.3f %6.3f | %10.3f | %6.3f %6.3f %6.3f "
                           "| %10.2f %10.2f %9.2f | %6.3f %6.3f %6.3f | %5.2f %5.2f | %6.3f %6.3f\n",
                           fb ? "sbora-fb" : "sbora-fa", threads[ti], (long long)L.d, (long long)L.T, (long long)L.r,
                           lora * 1e3, tfr * 1e3, tff * 1e3, txr * 1e3, txf * 1e3, tg * 1e3, route * 1e3, fused * 1e3,
                           best * 1e3, route / lora, fused / lora, best / lora, lsum * 1e3, sroute * 1e3, sbest * 1e3,
                           sroute / lsum, sbest / lsum, tgb * 1e3, tgt * 1e3);
                    fflush(stdout);
                }
                free_layer(&L);
            }
    }
}

/* The backward's GEMMs with a small N = r: dB = s*dy^T*xs (d x r, K = T) and t = dy*B (T x r, K = d). */
static void bench_smalln(const int *threads, int nthreads) {
    printf("\nSmall-N GEMMs of the backward (ms, best of %d; GF/s)\n", reps);
    printf("gemm                          thr     d     T   r |  cblas ms   GF/s |   hand ms   GF/s | hand/cblas\n");
    const int64_t ds[] = {2048, 4096}, rs[] = {16, 32, 64};
    for (int ti = 0; ti < nthreads; ti++) {
        set_threads(threads[ti]);
        for (int di = 0; di < 2; di++)
            for (int ri = 0; ri < 3; ri++) {
                layer L = make_layer(ds[di], 1024, rs[ri]);
                const double flops = 2.0 * (double)L.d * (double)L.T * (double)L.r;
                double tb, th;
                float *dbh = alloc_floats(L.d * L.r);
                TIME_PAIR(tb, fa_db_blas(&L), th, hand_db(L.dy, L.T, L.d, L.xs, L.r, L.s, dbh, threads[ti]));
                compare(dbh, L.dB, L.d * L.r, 1e-5 * (double)L.T, "hand dB");
                printf("%-29s %3d %5lld %5lld %3lld | %9.3f %6.1f | %9.3f %6.1f | %6.2f\n", "dB = s*dy^T*xs (n-vector)",
                       threads[ti], (long long)L.d, (long long)L.T, (long long)L.r, tb * 1e3, flops / tb * 1e-9,
                       th * 1e3, flops / th * 1e-9, th / tb);
                TIME_PAIR(tb, fa_db_blas(&L), th, sb_gemm_tn_small(L.dy, L.T, L.d, L.d, L.xs, L.r, L.r, L.s, dbh, L.r));
                compare(dbh, L.dB, L.d * L.r, 1e-5 * (double)L.T, "sb_gemm_tn_small dB");
                printf("%-29s %3d %5lld %5lld %3lld | %9.3f %6.1f | %9.3f %6.1f | %6.2f\n", "dB: sb_gemm_tn_small (lib)",
                       threads[ti], (long long)L.d, (long long)L.T, (long long)L.r, tb * 1e3, flops / tb * 1e-9,
                       th * 1e3, flops / th * 1e-9, th / tb);
                TIME_PAIR(tb, fa_db_blas(&L), th, hand_db3(L.dy, L.T, L.d, L.xs, L.r, L.s, dbh, threads[ti]));
                compare(dbh, L.dB, L.d * L.r, 1e-5 * (double)L.T, "hand dB (T blocked)");
                printf("%-29s %3d %5lld %5lld %3lld | %9.3f %6.1f | %9.3f %6.1f | %6.2f\n", "dB = s*dy^T*xs (T blocked)",
                       threads[ti], (long long)L.d, (long long)L.T, (long long)L.r, tb * 1e3, flops / tb * 1e-9,
                       th * 1e3, flops / th * 1e-9, th / tb);
                TIME_PAIR(tb, fa_db_blas(&L), th, hand_db2(L.dy, L.T, L.d, L.xs, L.r, L.s, dbh, threads[ti]));
                compare(dbh, L.dB, L.d * L.r, 1e-5 * (double)L.T, "hand dB (broadcast)");
                printf("%-29s %3d %5lld %5lld %3lld | %9.3f %6.1f | %9.3f %6.1f | %6.2f\n", "dB = s*dy^T*xs (broadcast)",
                       threads[ti], (long long)L.d, (long long)L.T, (long long)L.r, tb * 1e3, flops / tb * 1e-9,
                       th * 1e3, flops / th * 1e-9, th / tb);
                if (L.r <= 32) { /* the whole FA backward in one pass against gemm_scatter + cblas dB */
                    double tsep, tdual;
                    float *dx2 = alloc_floats(L.T * L.d);
                    memcpy(dx2, L.dx, (size_t)(L.T * L.d) * 4);
                    TIME_PAIR(tsep,
                              {
                                  fa_dx_fused(&L);
                                  fa_db_blas(&L);
                              },
                              tdual, dual_fa_backward(L.dy, L.T, L.d, L.B, L.xs, L.idx, L.r, L.s, dx2, dbh, threads[ti]));
                    compare(dbh, L.dB, L.d * L.r, 1e-5 * (double)L.T, "dual dB");
                    printf("%-29s %3d %5lld %5lld %3lld | %9.3f %6.1f | %9.3f %6.1f | %6.2f  (cblas = gemm_scatter + "
                           "sgemm dB)\n",
                           "FA backward in one pass", threads[ti], (long long)L.d, (long long)L.T, (long long)L.r,
                           tsep * 1e3, 2 * flops / tsep * 1e-9, tdual * 1e3, 2 * flops / tdual * 1e-9, tdual / tsep);
                    free(dx2);
                }
                /* t = dy * B: cblas into the temporary vs the fused kernel's product (gemm_scatter with the
                 * scatter-add into dx; the route adds sb_index_add_cols). */
                double tt, ts;
                TIME_PAIR(tt,
                          cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)L.T, (int)L.r, (int)L.d, 1.0f, L.dy,
                                      (int)L.d, L.B, (int)L.r, 0.0f, L.t, (int)L.r),
                          ts, fa_dx_fused(&L));
                printf("%-29s %3d %5lld %5lld %3lld | %9.3f %6.1f | %9.3f %6.1f | %6.2f  (hand = gemm_scatter incl. "
                       "scatter)\n",
                       "t = dy*B (sgemm N,N)", threads[ti], (long long)L.d, (long long)L.T, (long long)L.r, tt * 1e3,
                       flops / tt * 1e-9, ts * 1e3, flops / ts * 1e-9, ts / tt);
                fflush(stdout);
                free(dbh);
                free_layer(&L);
            }
    }
}

int main(int argc, char **argv) {
    /* As the Java side does (docs/ARCHITECTURE.md): libgomp workers that spin after a kernel take the cores that
     * OpenBLAS's threads need next. libgomp reads the variable when it loads, hence the re-exec. */
    if (getenv("OMP_WAIT_POLICY") == NULL) {
        setenv("OMP_WAIT_POLICY", "PASSIVE", 1);
        execv("/proc/self/exe", argv);
    }
    const char *mode = argc > 1 ? argv[1] : "all";
    if (getenv("SBG_REPS") != NULL) reps = atoi(getenv("SBG_REPS"));
    int threads[8], nthreads = 0;
    for (int i = 2; i < argc && nthreads < 8; i++) threads[nthreads++] = atoi(argv[i]);
    if (nthreads == 0) {
        threads[0] = 1;
        threads[1] = 2;
        nthreads = 2;
    }
    int all = strcmp(mode, "all") == 0;
    if (all || strcmp(mode, "check") == 0) run_checks();
    if (all || strcmp(mode, "kernels") == 0) bench_kernels(threads, nthreads);
    if (all || strcmp(mode, "adapter") == 0) bench_adapter(threads, nthreads);
    if (all || strcmp(mode, "smalln") == 0) bench_smalln(threads, nthreads);
    return failures == 0 ? 0 : 1;
}
