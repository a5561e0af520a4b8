/* The fused SBoRA GEMMs on bf16 activations (sbora_native.h, "bf16"): sb_gather_gemm_t and sb_gemm_scatter_t read x
 * (or a), c and xs in bf16, widen them to f32 as they load, and round c once when they store it, so that a bf16 c
 * is read and written once, two bytes an element, with no f32 copy of it in between. The trained factor f (f32) is
 * rounded to bf16 values (Backend's contract: a bf16 x bf16 product) and packed by the function into the caller's
 * work array, k-major with rows padded with zeros to whole tiles, once per call; the sums are f32 with fused
 * multiply-adds, in k order.
 *
 *  gather  c[i, j] += alpha * sum_k x[i, idx[k]] * F(k, j): register tiles of 4 rows x 32 columns of c accumulate
 *          over k (the gathered values of the 4 rows widened once per block of rows, F read from the packed rows),
 *          then are added to c.
 *  scatter c[i, idx[j]] += alpha * sum_k a[i, k] * F(k, j): register tiles of 8 rows x 16 of the r columns
 *          accumulate over k (the rows of a widened 256 values at a time into a stack block, each value broadcast),
 *          then are scattered into c.
 * Register tiles are loops with constant bounds (rows and 16-lane groups unrolled, each 16-lane loop left whole for
 * the vectoriser), as in sbora_gemm.c, compiled three times and picked once at run time: AVX-512 (F and BW: the
 * 16-bit loads and stores of bf16 need BW to be vectorised), AVX2 with FMA, and plain C. target_clones would not
 * do: its "arch=" clones are picked by CPU model, not by features, and an AVX2 clone without FMA calls fmaf in
 * libm. Threads split the rows. Where type is SB_F32 these are sb_gather_gemm and sb_gemm_scatter (work is not
 * used). */
#include "sb_bf16.h"
#include "sb_internal.h"

#include <math.h>

#include <stdlib.h>

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define SBB_X86 1
#define SBB_T512 __attribute__((target("avx512f,avx512bw")))
#define SBB_T256 __attribute__((target("avx2,fma")))
#endif

/* 2: AVX-512 F + BW; 1: AVX2 + FMA; 0: plain C. SBB_LEVEL (a digit) in the environment lowers it, for tests and
 * measurements of the other paths. */
static int sbb_level(void) {
    static int level = -1;
    int l = __atomic_load_n(&level, __ATOMIC_RELAXED);
    if (l >= 0) return l;
#ifdef SBB_X86
    l = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") ? 2
        : __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")      ? 1
                                                                                : 0;
#else
    l = 0;
#endif
    const char *env = getenv("SBB_LEVEL");
    if (env != NULL && env[0] >= '0' && env[0] < '0' + l) l = env[0] - '0';
    __atomic_store_n(&level, l, __ATOMIC_RELAXED);
    return l;
}

#define SBB_UNROLL _Pragma("GCC unroll 16")
#define SBB_LANES(l) _Pragma("GCC unroll 1") for (int l = 0; l < 16; l++)

#define GT_MR 4  /* gather tile: rows */
#define GT_NV 2  /* gather tile: 16-lane groups of columns */
#define GT_NR (16 * GT_NV)
#define GT_KP 512 /* gathered values per row held at a time */
#define GT_NC 1024 /* columns of c whose sums are kept before they are added to c (a multiple of GT_NR) */
#define ST_MR 8  /* scatter tile: rows */
#define ST_KC 256 /* values of a row of a widened at a time */

static int64_t min64(int64_t a, int64_t b) { return a < b ? a : b; }

static int64_t round_up(int64_t v, int64_t q) { return (v + q - 1) / q * q; }

/* work[k * ldw + j] = F(k, j) rounded to bf16 values for k < kn, j < jn, 0 for jn <= j < ldw; F(k, j) =
 * f[j * ldf + k] when trans_f, else f[k * ldf + j]. */
SB_CLONES static void pack_rows(const float *f, int64_t ldf, int trans_f, int64_t jn, float *work, int64_t ldw,
                                int64_t lo, int64_t hi) {
    for (int64_t k = lo; k < hi; k++) {
        float *w = work + k * ldw;
        if (trans_f) {
            for (int64_t j = 0; j < jn; j++) w[j] = sb_bf16_round(f[j * ldf + k]);
        } else {
            const float *fr = f + k * ldf;
            for (int64_t j = 0; j < jn; j++) w[j] = sb_bf16_round(fr[j]);
        }
        for (int64_t j = jn; j < ldw; j++) w[j] = 0.0f;
    }
}

static void pack(const float *f, int64_t ldf, int trans_f, int64_t kn, int64_t jn, float *work, int64_t ldw) {
    SB_PARALLEL_CHUNKS(kn, kn * ldw, lo, hi, pack_rows(f, ldf, trans_f, jn, work, ldw, lo, hi));
}

/* ---------------------------------------------------------------- gather */

/* xg[ii][k] = x[i + ii, idx[k0 + k]] widened, k < kp; rows at or past mr are zeros. */
static inline __attribute__((always_inline)) void gather_block(const uint16_t *x, int64_t ldx, const int32_t *idx,
                                                               int64_t i, int64_t mr, int64_t k0, int64_t kp,
                                                               float xg[GT_MR][GT_KP]) {
    for (int64_t ii = 0; ii < GT_MR; ii++) {
        const uint16_t *xr = x + (i + min64(ii, mr - 1)) * ldx;
        for (int64_t k = 0; k < kp; k++) xg[ii][k] = ii < mr ? sb_bf16_to_f32(xr[idx[k0 + k]]) : 0.0f;
    }
}

/* The tile kernels, once per target. */
#ifdef SBB_X86
#define SBB_SUF 512
#define SBB_TARGET SBB_T512
#define SBB_MADD(a, b, c) fmaf((a), (b), (c))
#include "sb_bf16_sbora_tiles.h"
#undef SBB_SUF
#undef SBB_TARGET
#define SBB_SUF 256
#define SBB_TARGET SBB_T256
#include "sb_bf16_sbora_tiles.h"
#undef SBB_SUF
#undef SBB_TARGET
#undef SBB_MADD
#endif
/* Plain C: no FMA to ask for (fmaf would be a call into libm), so a product and a sum. */
#define SBB_SUF plain
#define SBB_TARGET
#define SBB_MADD(a, b, c) ((a) * (b) + (c))
#include "sb_bf16_sbora_tiles.h"
#undef SBB_SUF
#undef SBB_TARGET
#undef SBB_MADD

static void gather_rows(int level, const uint16_t *x, int64_t ldx, const int32_t *idx, int64_t r, const float *fw,
                        int64_t ldw, int64_t n, float alpha, uint16_t *c, int64_t ldc, uint16_t *xs, int64_t ldxs,
                        int64_t lo, int64_t hi) {
#ifdef SBB_X86
    if (level == 2) {
        gather_rows_512(x, ldx, idx, r, fw, ldw, n, alpha, c, ldc, xs, ldxs, lo, hi);
        return;
    }
    if (level == 1) {
        gather_rows_256(x, ldx, idx, r, fw, ldw, n, alpha, c, ldc, xs, ldxs, lo, hi);
        return;
    }
#endif
    (void)level;
    gather_rows_plain(x, ldx, idx, r, fw, ldw, n, alpha, c, ldc, xs, ldxs, lo, hi);
}

static void scatter_rows(int level, const uint16_t *a, int64_t kdim, int64_t lda, const float *fw, int64_t ldw,
                         const int32_t *idx, int64_t r, float alpha, uint16_t *c, int64_t ldc, int64_t lo, int64_t hi) {
#ifdef SBB_X86
    if (level == 2) {
        scatter_rows_512(a, kdim, lda, fw, ldw, idx, r, alpha, c, ldc, lo, hi);
        return;
    }
    if (level == 1) {
        scatter_rows_256(a, kdim, lda, fw, ldw, idx, r, alpha, c, ldc, lo, hi);
        return;
    }
#endif
    (void)level;
    scatter_rows_plain(a, kdim, lda, fw, ldw, idx, r, alpha, c, ldc, lo, hi);
}

/* ---------------------------------------------------------------- entry points */

int sb_gather_gemm_t(int type, const void *x, int64_t m, int64_t ldx, const int32_t *idx, int64_t r, const float *f,
                     int64_t ldf, int trans_f, int64_t n, float alpha, void *c, int64_t ldc, void *xs, int64_t ldxs,
                     float *work) {
    SB_CHECK(type == SB_F32 || type == SB_BF16);
    if (type == SB_F32)
        return sb_gather_gemm((const float *)x, m, ldx, idx, r, f, ldf, trans_f, n, alpha, (float *)c, ldc,
                              (float *)xs, ldxs);
    SB_CHECK(m >= 0 && r >= 0 && n >= 0 && ldc >= n && ldf >= (trans_f ? r : n) && (xs == NULL || ldxs >= r));
    if (m == 0 || r == 0 || (n == 0 && xs == NULL)) return SB_OK;
    SB_CHECK(x != NULL && idx != NULL && (n == 0 || (f != NULL && c != NULL && work != NULL)));
    if (!sb_indices_in_range(idx, r, ldx)) return SB_ERR_INDEX;
    const int64_t ldw = round_up(n, GT_NR);
    if (n > 0) pack(f, ldf, trans_f, r, n, work, ldw);
    const int level = sbb_level();
    SB_PARALLEL_CHUNKS(m, m * (n + 1) * r, lo, hi,
                       gather_rows(level, (const uint16_t *)x, ldx, idx, r, work, ldw, n, alpha, (uint16_t *)c, ldc,
                                   (uint16_t *)xs, ldxs, lo, hi));
    return SB_OK;
}

int sb_gemm_scatter_t(int type, const void *a, int64_t m, int64_t kdim, int64_t lda, const float *f, int64_t ldf,
                      int trans_f, const int32_t *idx, int64_t r, float alpha, void *c, int64_t ldc, float *work) {
    SB_CHECK(type == SB_F32 || type == SB_BF16);
    if (type == SB_F32)
        return sb_gemm_scatter((const float *)a, m, kdim, lda, f, ldf, trans_f, idx, r, alpha, (float *)c, ldc);
    SB_CHECK(m >= 0 && kdim >= 0 && r >= 0 && lda >= kdim && ldf >= (trans_f ? kdim : r));
    if (m == 0 || r == 0) return SB_OK;
    SB_CHECK(c != NULL && idx != NULL && (kdim == 0 || (a != NULL && f != NULL && work != NULL)));
    if (!sb_indices_in_range(idx, r, ldc)) return SB_ERR_INDEX;
    const int64_t ldw = round_up(r, 16);
    if (kdim > 0) pack(f, ldf, trans_f, kdim, r, work, ldw);
    const int level = sbb_level();
    SB_PARALLEL_CHUNKS(m, m * (kdim + 1) * r, lo, hi,
                       scatter_rows(level, (const uint16_t *)a, kdim, lda, work, ldw, idx, r, alpha, (uint16_t *)c, ldc,
                                    lo, hi));
    return SB_OK;
}
