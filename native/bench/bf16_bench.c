/* Checks and times the bf16 kernels of libsbora_native and the bf16 GEMM plan of the cpu backend (CpuBf16Backend:
 * bf16 operands widened to f32 in bounded panels, cblas_sgemm on the panels, the f32 tile stored into a bf16 c).
 *
 *   bf16_bench check               sb_convert against a plain C copy of BFloat16.java: every bf16, awkward floats
 *   bf16_bench peak                FMA (f32) against VDPBF16PS (AVX512_BF16) instruction throughput, one core: what
 *                                  a native bf16 dot-product GEMM could gain over cblas_sgemm on this CPU
 *   bf16_bench convert [threads]   conversion bandwidth (f32 <-> bf16, panels) against a plain f32 copy
 *   bf16_bench gemm [threads...]   y = x W^T and dx = dy W of a frozen projection: cblas_sgemm on f32 against the
 *                                  panel plan on bf16, alternated per repetition; ratio per pair (min, median)
 *   bf16_bench sbora [threads...]  SBoRA-FA's gather GEMM (forward) and scatter GEMM (backward) of a projection:
 *                                  sb_gather_gemm_t / sb_gemm_scatter_t on bf16 against the f32 kernels
 *                                  (SBB_LEVEL=1 or 0: the AVX2 or plain tiles of the bf16 kernels)
 *
 * Environment: BF16_REPS (repetitions, default 9), BF16_PANEL (floats per panel, default 2097152 as in the Java
 * backend), BF16_TOKENS (rows of x, default 1024). OMP_WAIT_POLICY defaults to PASSIVE, as in the Java process.
 * Links a CBLAS (OpenBLAS): the bench declares the functions it calls. */
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
static uint32_t rand32(void) {
    rng_state = rng_state * 6364136223846793005ull + 1442695040888963407ull;
    return (uint32_t)(rng_state >> 32);
}
static float frand(void) { return (float)(rand32() >> 8) / (float)0x800000 - 1.0f; }

static void *alloc(size_t bytes) {
    void *p = aligned_alloc(64, (bytes + 63) / 64 * 64);
    if (p == NULL) {
        fprintf(stderr, "out of memory\n");
        exit(2);
    }
    return p;
}

static int env_int(const char *name, int dflt) {
    const char *v = getenv(name);
    return v != NULL && atoi(v) > 0 ? atoi(v) : dflt;
}

static void set_threads(int n) {
    sb_set_num_threads(env_int("BF16_KERNEL_THREADS", n));
    openblas_set_num_threads(n);
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* ---------------------------------------------------------------- check */

/* BFloat16.fromFloat, line for line. */
static uint16_t ref_from_float(uint32_t bits) {
    if ((bits & 0x7fffffffu) > 0x7f800000u) return (uint16_t)((bits >> 16) | 0x0040u);
    return (uint16_t)((bits + 0x7fffu + ((bits >> 16) & 1u)) >> 16);
}

static int check(void) {
    int bad = 0;
    const int64_t n = 1 << 16;
    uint16_t *h = alloc((size_t)n * 2);
    uint32_t *f = alloc((size_t)n * 4);
    for (int64_t i = 0; i < n; i++) h[i] = (uint16_t)i;
    sb_convert(h, SB_BF16, f, SB_F32, n);
    for (int64_t i = 0; i < n; i++) bad += f[i] != ((uint32_t)i << 16);
    printf("bf16 -> f32, all 65536 patterns: %s\n", bad ? "MISMATCH" : "exact");
    const uint32_t special[] = {0x7fc00000, 0xffc00000, 0x7f800001, 0xff800001, 0x7fbfffff, 0x7f800000, 0xff800000,
                                0,          0x80000000, 0x7f7fffff, 0x7f7f8000, 0x7f7f7fff, 0x00000001, 0x00008000,
                                0x00018000, 0x007fffff, 0x3f808000, 0x3f818000, 0x3f808001, 0x3f817fff};
    const int64_t sizes[] = {1, 15, 16, 17, 33, 1000, 65537, 1 << 20};
    int bad2 = 0;
    for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
        const int64_t m = sizes[s];
        uint32_t *x = alloc((size_t)m * 4);
        uint16_t *o = alloc((size_t)m * 2);
        for (int64_t i = 0; i < m; i++) {
            const uint32_t r = rand32();
            x[i] = r % 3 == 0 ? special[r / 3 % (sizeof special / sizeof special[0])]
                   : r % 3 == 1 ? (rand32() & 0xffff0000u) | 0x8000u
                                : rand32();
        }
        sb_convert(x, SB_F32, o, SB_BF16, m);
        for (int64_t i = 0; i < m; i++) bad2 += o[i] != ref_from_float(x[i]);
        free(x);
        free(o);
    }
    printf("f32 -> bf16, awkward floats over 8 sizes: %s\n", bad2 ? "MISMATCH" : "exact");
    free(h);
    free(f);
    return bad || bad2;
}

/* ---------------------------------------------------------------- peak */

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#include <immintrin.h>
#define PEAK_ACC 12
__attribute__((target("avx512f,fma"), noinline)) static float peak_fma(long iters) {
    __m512 acc[PEAK_ACC], a = _mm512_set1_ps(1.0f), b = _mm512_set1_ps(1e-9f);
    for (int i = 0; i < PEAK_ACC; i++) acc[i] = _mm512_setzero_ps();
    for (long it = 0; it < iters; it++) {
#pragma GCC unroll 12
        for (int i = 0; i < PEAK_ACC; i++) acc[i] = _mm512_fmadd_ps(a, b, acc[i]);
        __asm__ volatile("" : "+v"(a));
    }
    for (int i = 1; i < PEAK_ACC; i++) acc[0] = _mm512_add_ps(acc[0], acc[i]);
    return _mm512_reduce_add_ps(acc[0]);
}
__attribute__((target("avx512f,avx512bf16"), noinline)) static float peak_dpbf16(long iters) {
    __m512 acc[PEAK_ACC];
    __m512bh a = (__m512bh)_mm512_set1_epi32(0x3f803f80), b = (__m512bh)_mm512_set1_epi32(0x3a803a80);
    for (int i = 0; i < PEAK_ACC; i++) acc[i] = _mm512_setzero_ps();
    for (long it = 0; it < iters; it++) {
#pragma GCC unroll 12
        for (int i = 0; i < PEAK_ACC; i++) acc[i] = _mm512_dpbf16_ps(acc[i], a, b);
        __asm__ volatile("" : "+v"(a));
    }
    for (int i = 1; i < PEAK_ACC; i++) acc[0] = _mm512_add_ps(acc[0], acc[i]);
    return _mm512_reduce_add_ps(acc[0]);
}

static int peak(void) {
    if (!__builtin_cpu_supports("avx512f")) {
        printf("no AVX-512 on this CPU\n");
        return 0;
    }
    const int bf16 = __builtin_cpu_supports("avx512bf16");
    const long iters = 20000000;
    for (int r = 0; r < 3; r++) {
        double t0 = now();
        volatile float s1 = peak_fma(iters);
        double t1 = now(), t2 = t1;
        volatile float s2 = 0;
        if (bf16) {
            s2 = peak_dpbf16(iters);
            t2 = now();
        }
        (void)s1;
        (void)s2;
        const double fma = (double)iters * PEAK_ACC / (t1 - t0);
        printf("VFMADD231PS zmm: %.2f G/s = %.0f GFLOP/s", fma / 1e9, fma * 32 / 1e9);
        if (bf16) {
            const double dp = (double)iters * PEAK_ACC / (t2 - t1);
            printf("   VDPBF16PS zmm: %.2f G/s = %.0f GFLOP/s (%.2f of FMA)", dp / 1e9, dp * 64 / 1e9,
                   dp * 64 / (fma * 32));
        } else {
            printf("   (no AVX512_BF16)");
        }
        printf("\n");
    }
    return 0;
}
#else
static int peak(void) {
    printf("peak: x86-64 with GCC only\n");
    return 0;
}
#endif

/* ---------------------------------------------------------------- convert */

static int convert(int threads) {
    set_threads(threads);
    const int64_t n = 16 << 20;
    const int reps = env_int("BF16_REPS", 9);
    float *f = alloc((size_t)n * 4), *g = alloc((size_t)n * 4);
    uint16_t *h = alloc((size_t)n * 2);
    for (int64_t i = 0; i < n; i++) f[i] = frand();
    sb_convert(f, SB_F32, h, SB_BF16, n);
    double best[4] = {1e9, 1e9, 1e9, 1e9};
    for (int r = 0; r < reps; r++) {
        double t0 = now();
        sb_convert(f, SB_F32, g, SB_F32, n); /* a plain copy: 8 bytes moved per element */
        double t1 = now();
        sb_convert(f, SB_F32, h, SB_BF16, n);
        double t2 = now();
        sb_convert(h, SB_BF16, g, SB_F32, n);
        double t3 = now();
        sb_bf16_panel(h, SB_BF16, n / 4096, 4096, 4096, g, 4096);
        double t4 = now();
        const double t[4] = {t1 - t0, t2 - t1, t3 - t2, t4 - t3};
        for (int i = 0; i < 4; i++) best[i] = t[i] < best[i] ? t[i] : best[i];
    }
    const char *what[4] = {"f32 copy", "f32 -> bf16", "bf16 -> f32", "bf16 panel (4096 wide)"};
    const double bytes[4] = {8, 6, 6, 6};
    printf("threads %d, %lld elements (best of %d):\n", threads, (long long)n, reps);
    for (int i = 0; i < 4; i++)
        printf("  %-24s %6.2f ms  %5.2f ns/element  %5.1f GB/s\n", what[i], best[i] * 1e3, best[i] / n * 1e9,
               bytes[i] * n / best[i] / 1e9);
    free(f);
    free(g);
    free(h);
    return 0;
}

/* ---------------------------------------------------------------- gemm */

/* The panel plan of CpuBf16Backend.gemm for a, b and c in bf16 (ta: op(a) = a^T; tb: op(b) = b^T), beta 0. */
typedef struct {
    const uint16_t *t;
    int ld, along_columns, loaded_lo, loaded_k;
    float *buf;
} operand;

static int block_of(int size, long fit) { return fit >= size ? size : (int)(fit / 16 * 16 > 16 ? fit / 16 * 16 : 16); }

static int even_block(int size, int max) {
    if (size <= max) return size;
    const int parts = (size + max - 1) / max;
    return ((size + parts - 1) / parts + 15) / 16 * 16;
}

static const float *panel(operand *o, int lo, int len, int k0, int kl, int *ld) {
    const int rows = o->along_columns ? kl : len, cols = o->along_columns ? len : kl;
    const int64_t offset = o->along_columns ? (int64_t)k0 * o->ld + lo : (int64_t)lo * o->ld + k0;
    if (o->loaded_lo != lo || o->loaded_k != k0) {
        sb_bf16_panel(o->t + offset, SB_BF16, rows, cols, o->ld, o->buf, cols);
        o->loaded_lo = lo;
        o->loaded_k = k0;
    }
    *ld = cols;
    return o->buf;
}

static void panel_gemm(int ta, int tb, int m, int n, int k, const uint16_t *a, const uint16_t *b, uint16_t *c,
                       long budget, float *abuf, float *bbuf, float *tile) {
    const int kb = even_block(k, (int)(budget / 1024 > 16 ? budget / 1024 : 16));
    int mb = block_of(m, budget / kb), nb = block_of(n, budget / kb);
    if ((long)mb * nb > budget) {
        nb = block_of(nb, budget / mb);
        if ((long)mb * nb > budget) mb = block_of(mb, budget / nb);
    }
    operand pa = {a, ta ? m : k, ta, -1, -1, abuf};
    operand pb = {b, tb ? k : n, !tb, -1, -1, bbuf};
    const long bm = (m + mb - 1) / mb, bn = (n + nb - 1) / nb;
    const int rows_outer = kb < k || (long)n * (bn > 1 ? bm : 1) + m <= (long)m * (bm > 1 ? bn : 1) + n;
    const int outer = rows_outer ? m : n, inner = rows_outer ? n : m, ob = rows_outer ? mb : nb,
              ib = rows_outer ? nb : mb;
    for (int o0 = 0; o0 < outer; o0 += ob) {
        for (int i0 = 0; i0 < inner; i0 += ib) {
            const int r0 = rows_outer ? o0 : i0, c0 = rows_outer ? i0 : o0;
            const int mr = mb < m - r0 ? mb : m - r0, nr = nb < n - c0 ? nb : n - c0;
            for (int k0 = 0; k0 < k; k0 += kb) {
                const int kl = kb < k - k0 ? kb : k - k0;
                int lda, ldb;
                const float *ap = panel(&pa, r0, mr, k0, kl, &lda), *bp = panel(&pb, c0, nr, k0, kl, &ldb);
                cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, mr, nr, kl,
                            1.0f, ap, lda, bp, ldb, k0 > 0 ? 1.0f : 0.0f, tile, nr);
            }
            sb_store_t(tile, mr, nr, nr, 0.0f, c + (int64_t)r0 * n + c0, SB_BF16, n);
        }
    }
}

static int gemm(int threads) {
    set_threads(threads);
    const int reps = env_int("BF16_REPS", 9), t = env_int("BF16_TOKENS", 1024);
    const long budget = env_int("BF16_PANEL", 2 << 20);
    const int shapes[][2] = {{512, 1376}, {1376, 512}, {2048, 2048}, {2048, 5632}, {5632, 2048}};
    float *abuf = alloc((size_t)budget * 4), *bbuf = alloc((size_t)budget * 4), *tile = alloc((size_t)budget * 4);
    printf("threads %d, %d tokens, panels of %ld floats; y = x W^T then dx = dy W (W: out x in), ms:\n", threads, t,
           budget);
    printf("  %-10s %9s %9s %9s %9s %11s\n", "in x out", "f32 best", "f32 med", "bf16 best", "bf16 med",
           "ratio min/med");
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
        const int in = shapes[s][0], out = shapes[s][1];
        const int64_t nw = (int64_t)in * out, nx = (int64_t)t * in, ny = (int64_t)t * out;
        float *w = alloc((size_t)nw * 4), *x = alloc((size_t)nx * 4), *dy = alloc((size_t)ny * 4);
        float *y = alloc((size_t)ny * 4), *dx = alloc((size_t)nx * 4);
        uint16_t *wh = alloc((size_t)nw * 2), *xh = alloc((size_t)nx * 2), *dyh = alloc((size_t)ny * 2);
        uint16_t *yh = alloc((size_t)ny * 2), *dxh = alloc((size_t)nx * 2);
        for (int64_t i = 0; i < nw; i++) w[i] = frand() * 0.05f;
        for (int64_t i = 0; i < nx; i++) x[i] = frand();
        for (int64_t i = 0; i < ny; i++) dy[i] = frand();
        sb_convert(w, SB_F32, wh, SB_BF16, nw);
        sb_convert(x, SB_F32, xh, SB_BF16, nx);
        sb_convert(dy, SB_F32, dyh, SB_BF16, ny);
        double *tf = alloc((size_t)reps * 8), *tb = alloc((size_t)reps * 8), *ratio = alloc((size_t)reps * 8);
        for (int r = -2; r < reps; r++) {
            double t0 = now();
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, t, out, in, 1.0f, x, in, w, in, 0.0f, y, out);
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, t, in, out, 1.0f, dy, out, w, in, 0.0f, dx, in);
            double t1 = now();
            panel_gemm(0, 1, t, out, in, xh, wh, yh, budget, abuf, bbuf, tile);
            panel_gemm(0, 0, t, in, out, dyh, wh, dxh, budget, abuf, bbuf, tile);
            double t2 = now();
            if (r >= 0) {
                tf[r] = (t1 - t0) * 1e3;
                tb[r] = (t2 - t1) * 1e3;
                ratio[r] = tb[r] / tf[r];
            }
        }
        /* The products agree within f32 accumulation of bf16-rounded values plus one bf16 rounding of c. */
        double err = 0, scale = 0;
        for (int64_t i = 0; i < ny; i++) {
            const float v = y[i];
            union { uint32_t u; float f; } cv = {.u = (uint32_t)yh[i] << 16};
            err = fmax(err, fabs(cv.f - v));
            scale = fmax(scale, fabs(v));
        }
        qsort(tf, (size_t)reps, 8, cmp_double);
        qsort(tb, (size_t)reps, 8, cmp_double);
        qsort(ratio, (size_t)reps, 8, cmp_double);
        printf("  %4dx%-5d %9.1f %9.1f %9.1f %9.1f %5.3f/%5.3f   (max |y_bf16 - y_f32| %.3g of max |y| %.3g)\n",
               in, out, tf[0], tf[reps / 2], tb[0], tb[reps / 2], ratio[0], ratio[reps / 2], err, scale);
        free(w); free(x); free(dy); free(y); free(dx); free(wh); free(xh); free(dyh); free(yh); free(dxh);
        free(tf); free(tb); free(ratio);
    }
    free(abuf);
    free(bbuf);
    free(tile);
    return 0;
}

/* ---------------------------------------------------------------- sbora */

/* SBoRA-FA's two adapter GEMMs of one projection (in -> out, r = 16): the gather GEMM of the forward
 * (y += s x[:, idx] B^T, xs kept) and the scatter GEMM of the backward (dx[:, idx] += s dy B), on bf16 activations
 * (sb_gather_gemm_t, sb_gemm_scatter_t) against the f32 kernels, alternated per repetition. */
static int sbora(int threads) {
    set_threads(threads);
    const int reps = env_int("BF16_REPS", 9), t = env_int("BF16_TOKENS", 1024), r = 16;
    const int shapes[][2] = {{512, 1376}, {1376, 512}, {2048, 2048}, {2048, 5632}, {5632, 2048}};
    printf("threads %d, %d tokens, r %d; gather GEMM + scatter GEMM, ms:\n", threads, t, r);
    printf("  %-10s %9s %9s %9s %9s %11s\n", "in x out", "f32 best", "f32 med", "bf16 best", "bf16 med",
           "ratio min/med");
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
        const int in = shapes[s][0], out = shapes[s][1];
        const int64_t nx = (int64_t)t * in, ny = (int64_t)t * out;
        float *x = alloc((size_t)nx * 4), *y = alloc((size_t)ny * 4), *xs = alloc((size_t)t * r * 4);
        float *dy = alloc((size_t)ny * 4), *dx = alloc((size_t)nx * 4), *b = alloc((size_t)out * r * 4);
        float *work = alloc((size_t)(out + in + 64) * r * 4);
        uint16_t *xh = alloc((size_t)nx * 2), *yh = alloc((size_t)ny * 2), *xsh = alloc((size_t)t * r * 2);
        uint16_t *dyh = alloc((size_t)ny * 2), *dxh = alloc((size_t)nx * 2);
        int32_t idx[16];
        for (int i = 0; i < r; i++) idx[i] = (int32_t)(i * (in / r));
        for (int64_t i = 0; i < nx; i++) x[i] = dx[i] = frand();
        for (int64_t i = 0; i < ny; i++) y[i] = dy[i] = frand();
        for (int64_t i = 0; i < (int64_t)out * r; i++) b[i] = frand() * 0.1f;
        sb_convert(x, SB_F32, xh, SB_BF16, nx);
        sb_convert(dx, SB_F32, dxh, SB_BF16, nx);
        sb_convert(y, SB_F32, yh, SB_BF16, ny);
        sb_convert(dy, SB_F32, dyh, SB_BF16, ny);
        double *tf = alloc((size_t)reps * 8), *tb = alloc((size_t)reps * 8), *ratio = alloc((size_t)reps * 8);
        for (int q = -2; q < reps; q++) {
            double t0 = now();
            sb_gather_gemm(x, t, in, idx, r, b, r, 1, out, 2.0f, y, out, xs, r);
            sb_gemm_scatter(dy, t, out, out, b, r, 0, idx, r, 2.0f, dx, in);
            double t1 = now();
            sb_gather_gemm_t(SB_BF16, xh, t, in, idx, r, b, r, 1, out, 2.0f, yh, out, xsh, r, work);
            sb_gemm_scatter_t(SB_BF16, dyh, t, out, out, b, r, 0, idx, r, 2.0f, dxh, in, work);
            double t2 = now();
            if (q >= 0) {
                tf[q] = (t1 - t0) * 1e3;
                tb[q] = (t2 - t1) * 1e3;
                ratio[q] = tb[q] / tf[q];
            }
        }
        qsort(tf, (size_t)reps, 8, cmp_double);
        qsort(tb, (size_t)reps, 8, cmp_double);
        qsort(ratio, (size_t)reps, 8, cmp_double);
        printf("  %4dx%-5d %9.2f %9.2f %9.2f %9.2f %5.3f/%5.3f\n", in, out, tf[0], tf[reps / 2], tb[0], tb[reps / 2],
               ratio[0], ratio[reps / 2]);
        free(x); free(y); free(xs); free(dy); free(dx); free(b); free(work);
        free(xh); free(yh); free(xsh); free(dyh); free(dxh); free(tf); free(tb); free(ratio);
    }
    return 0;
}

int main(int argc, char **argv) {
    /* As the Java process does: libgomp reads the variable when it loads, hence the re-exec. */
    if (getenv("OMP_WAIT_POLICY") == NULL) {
        setenv("OMP_WAIT_POLICY", "PASSIVE", 1);
        execv("/proc/self/exe", argv);
    }
    const char *mode = argc > 1 ? argv[1] : "check";
    if (strcmp(mode, "check") == 0) return check();
    if (strcmp(mode, "peak") == 0) return peak();
    if (strcmp(mode, "convert") == 0) return convert(argc > 2 ? atoi(argv[2]) : 1);
    if (strcmp(mode, "sbora") == 0) {
        if (argc <= 2) return sbora(1);
        for (int i = 2; i < argc; i++) sbora(atoi(argv[i]));
        return 0;
    }
    if (strcmp(mode, "gemm") == 0) {
        if (argc <= 2) return gemm(1);
        for (int i = 2; i < argc; i++) gemm(atoi(argv[i]));
        return 0;
    }
    fprintf(stderr, "usage: bf16_bench check | peak | convert [threads] | gemm [threads...] | sbora [threads...]\n");
    return 2;
}
