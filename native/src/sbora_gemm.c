/* The fused SBoRA GEMMs (sbora_native.h, "fused SBoRA GEMMs"): the standard-basis factor of SBoRA turns one of the
 * two adapter GEMMs into a column gather (or scatter), which these kernels do while they pack (or store), so that
 * neither x[:, idx] (unless asked for) nor the T x r product of the backward goes through memory between two calls.
 *
 * Both are thin GEMMs (r is small, 1..64 in practice): register-tiled kernels in plain C that GCC vectorises, with
 * explicit fmaf (a GEMM's result is compared within a tolerance, not bit for bit: this file keeps -ffp-contract=off
 * like every other and asks for the fused multiply-adds it wants by name).
 *
 *  sb_gather_gemm  c[i, j] += alpha * sum_k x[i, idx[k]] * F(k, j): a rank-r update of c. F is packed per block of
 *                  columns into a stack panel, tile by tile (transposed when trans_f: SBoRA-FA's B is n x r); the r
 *                  gathered values of each row come from xs when the caller wants xs (gathered first, then read as a
 *                  packed panel) or are gathered per tile; a tile of rows x columns accumulates in registers over k
 *                  and is added to c once. Threads split the rows (or the columns, for few rows). A few rows read F
 *                  in place instead (packing would cost as much as the product).
 *  sb_gemm_scatter c[i, idx[j]] += alpha * sum_k a[i, k] * F(k, j): r dot products of length kdim per row. With F
 *                  along j (trans_f == 0, SBoRA-FA's B, kdim x r), rows of F are read in place, 16..64 wide, and
 *                  each a[i, k] is broadcast (GSB tiles); with F along k (trans_f == 1, SBoRA-FB's A, r x kdim), F is
 *                  packed along j one k-block at a time for large blocks of rows, else a row of a and a row of F are
 *                  multiplied 16 lanes at a time and reduced at the end (GSD tiles). The sums of a block of rows stay
 *                  on the stack until they are scattered. Threads split the rows, or k for a few rows (partial sums
 *                  added in thread order: deterministic for a given thread count).
 *  sb_gemm_tn_small c = alpha * a^T * b with few columns (SBoRA-FA's dB = s * dy^T * xs, where cblas_sgemm runs at
 *                  half its usual speed for r = 16): a tile of 32 rows of c (32 columns of a, one vector load per
 *                  row of a) x 8 columns of b (broadcast) accumulates over a block of 256 rows, so that a's strip
 *                  stays in L1 while all of r goes past it, then is added to c transposed. Threads split c's rows.
 *
 * Register tiles are written as loops with constant bounds: the loops over rows and 16-lane groups are unrolled
 * completely (SBG_UNROLL) and each 16-lane loop is left whole for the vectoriser (SBG_VEC, which keeps GCC from
 * unrolling it into scalars first), so that a tile is a set of vector accumulators. Each tile family lives in its
 * own small function: inlined together into one large function, GCC lost their register allocation. Stack use:
 * up to 64 KiB of panel plus 64 KiB of sums per thread (the caller's thread included), no heap. */
#include "sb_internal.h"

#include <math.h>
#include <stdlib.h>

#define MADD(a, b, c) fmaf((a), (b), (c))

/* Two tile sets: large tiles for AVX-512 (32 registers of 16 floats) and small ones for AVX2 + FMA (16 registers of
 * 8 floats), each compiled for its target and picked once at run time (sbg_level); a tile set written for one does
 * not fit the other (AVX2 spilled the AVX-512 tiles and ran at two thirds of OpenBLAS). Elsewhere (not x86-64 with
 * GCC) the small set is compiled for the default target. Helpers outside the tiles use target_clones. */
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define SBG_X86 1
#define SBG_T512 __attribute__((target("avx512f")))
#define SBG_T256 __attribute__((target("avx2,fma")))
/* "arch=haswell" rather than "avx2": an AVX2 target without FMA would call fmaf in libm. */
#define SBG_CLONES __attribute__((target_clones("avx512f", "arch=haswell", "default")))
#else
#define SBG_T256
#define SBG_CLONES
#endif

/* 2: AVX-512 tiles; 1: AVX2 tiles (or not x86-64); 0: no FMA, plain loops. SBG_LEVEL (a digit) in the environment
 * lowers it, for measurements and tests of the other paths. */
static int sbg_level(void) {
    static int level = -1;
    int l = __atomic_load_n(&level, __ATOMIC_RELAXED);
    if (l >= 0) return l;
#ifdef SBG_X86
    l = __builtin_cpu_supports("avx512f") ? 2 : __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") ? 1 : 0;
#else
    l = 1;
#endif
    const char *env = getenv("SBG_LEVEL");
    if (env != NULL && env[0] >= '0' && env[0] < '0' + l) l = env[0] - '0';
    __atomic_store_n(&level, l, __ATOMIC_RELAXED);
    return l;
}

#define SBG_INLINE static inline __attribute__((always_inline))
#define SBG_UNROLL _Pragma("GCC unroll 64")
#define SBG_VEC _Pragma("GCC unroll 1")
/* for (l < 16): one vector of 16 floats */
#define SBG_LANES(l) SBG_VEC for (int l = 0; l < 16; l++)

static int64_t min64(int64_t a, int64_t b) { return a < b ? a : b; }

/* ---------------------------------------------------------------- gather GEMM */

#define GG_MR 8          /* rows per thread's share are multiples of this */
#define GG_NRMAX 32      /* widest tile (AVX-512); panels are padded to the tile width nr of the level */
#define GG_KC 64         /* k per pass (r above it takes several passes, each adding to c) */
#define GG_SMALL_M 4     /* fewer rows than this take gg_rows_direct */
#define GG_CHUNK 2048    /* columns of a row accumulated at a time there */
#define GG_PANEL 16384   /* floats of packed F per thread (64 KiB): kc x (GG_PANEL / kc) columns */

/* A tile set of the gather GEMM: MR rows x NV vectors of 16 floats.
 * gg_tile: c[0..MR, 0..16 NV) += alpha * xp(MR x kc, row stride xps) * fp(kc x 16 NV, row stride fps).
 * gg_block: rows [0, mb) x columns [0, nb) of c (c at the block's corner) from a panel fp packed by gg_pack (tile
 * width 16 NV). Row tiles read their r values from xs (stride ldxs) when given, else gather them from x. */
#define GG_DEFINE(SUF, TARGET, MR, NV)                                                                               \
    SBG_INLINE void gg_tile_##SUF(int64_t kc, const float *xp, int64_t xps, const float *fp, int64_t fps,          \
                                  float alpha, float *c, int64_t ldc) {                                            \
        float acc[MR][NV][16];                                                                                     \
        SBG_UNROLL                                                                                                 \
        for (int i = 0; i < MR; i++) {                                                                             \
            SBG_UNROLL                                                                                             \
            for (int v = 0; v < NV; v++) SBG_LANES(l) acc[i][v][l] = 0.0f;                                         \
        }                                                                                                          \
        for (int64_t k = 0; k < kc; k++) {                                                                         \
            const float *fr = fp + k * fps;                                                                        \
            SBG_UNROLL                                                                                             \
            for (int i = 0; i < MR; i++) {                                                                         \
                const float xv = xp[i * xps + k];                                                                  \
                SBG_UNROLL                                                                                         \
                for (int v = 0; v < NV; v++) SBG_LANES(l) acc[i][v][l] = MADD(xv, fr[v * 16 + l], acc[i][v][l]);   \
            }                                                                                                      \
        }                                                                                                          \
        SBG_UNROLL                                                                                                 \
        for (int i = 0; i < MR; i++) {                                                                             \
            SBG_UNROLL                                                                                             \
            for (int v = 0; v < NV; v++) {                                                                         \
                float *cv = c + i * ldc + v * 16;                                                                  \
                SBG_LANES(l) cv[l] = MADD(alpha, acc[i][v][l], cv[l]);                                             \
            }                                                                                                      \
        }                                                                                                          \
    }                                                                                                              \
    TARGET static void gg_block_##SUF(int64_t mb, int64_t nb, int64_t kc, const float *x, int64_t ldx,              \
                                      const int32_t *idx, const float *xs, int64_t ldxs, const float *fp,           \
                                      float alpha, float *c, int64_t ldc) {                                         \
        enum { NR = 16 * NV };                                                                                     \
        float xt[MR * GG_KC];                                                                                      \
        float ct[MR * NR];                                                                                         \
        for (int64_t i = 0; i < mb; i += MR) {                                                                     \
            const int64_t mr = min64(mb - i, MR);                                                                  \
            const float *xp = xt;                                                                                  \
            int64_t xps = GG_KC;                                                                                   \
            if (xs != NULL && mr == MR) {                                                                          \
                xp = xs + i * ldxs;                                                                                \
                xps = ldxs;                                                                                        \
            } else {                                                                                               \
                for (int64_t ii = 0; ii < MR; ii++) {                                                              \
                    float *p = xt + ii * GG_KC;                                                                    \
                    if (ii >= mr) {                                                                                \
                        for (int64_t k = 0; k < kc; k++) p[k] = 0.0f;                                              \
                    } else if (xs != NULL) {                                                                       \
                        for (int64_t k = 0; k < kc; k++) p[k] = xs[(i + ii) * ldxs + k];                           \
                    } else {                                                                                       \
                        const float *xr = x + (i + ii) * ldx;                                                      \
                        for (int64_t k = 0; k < kc; k++) p[k] = xr[idx[k]];                                        \
                    }                                                                                              \
                }                                                                                                  \
            }                                                                                                      \
            float *ci = c + i * ldc;                                                                               \
            for (int64_t j = 0; j < nb; j += NR) {                                                                 \
                const int64_t nr = min64(nb - j, NR);                                                              \
                if (mr == MR && nr == NR) {                                                                        \
                    gg_tile_##SUF(kc, xp, xps, fp + j * kc, NR, alpha, ci + j, ldc);                               \
                } else { /* an edge tile: a full one on a copy of c */                                             \
                    for (int64_t ii = 0; ii < mr; ii++)                                                            \
                        for (int64_t jj = 0; jj < nr; jj++) ct[ii * NR + jj] = ci[ii * ldc + j + jj];              \
                    gg_tile_##SUF(kc, xp, xps, fp + j * kc, NR, alpha, ct, NR);                                    \
                    for (int64_t ii = 0; ii < mr; ii++)                                                            \
                        for (int64_t jj = 0; jj < nr; jj++) ci[ii * ldc + j + jj] = ct[ii * NR + jj];              \
                }                                                                                                  \
            }                                                                                                      \
        }                                                                                                          \
    }

#ifdef SBG_X86
GG_DEFINE(512, SBG_T512, 8, 2)
#endif
GG_DEFINE(256, SBG_T256, 6, 1)

static void gg_block(int level, int64_t mb, int64_t nb, int64_t kc, const float *x, int64_t ldx, const int32_t *idx,
                     const float *xs, int64_t ldxs, const float *fp, float alpha, float *c, int64_t ldc) {
#ifdef SBG_X86
    if (level == 2) {
        gg_block_512(mb, nb, kc, x, ldx, idx, xs, ldxs, fp, alpha, c, ldc);
        return;
    }
#endif
    (void)level;
    gg_block_256(mb, nb, kc, x, ldx, idx, xs, ldxs, fp, alpha, c, ldc);
}

/* fp = F(k0 + k, jb + j) for k < kc, j < nbp, zeros for j >= nb, packed by tiles: the NR columns of tile q are
 * kc contiguous runs of NR floats from fp + q * kc * NR, so that a tile reads one contiguous block (rows of a wide
 * panel at a power-of-two stride fell into a few L1 sets and evicted each other). trans_f: F(k, j) = f[j * ldf + k],
 * transposed 16 columns at a time (16 rows of f in, kc runs of 16 floats out). */
SB_CLONES static void gg_pack(const float *f, int64_t ldf, int trans_f, int64_t k0, int64_t kc, int64_t jb, int64_t nb,
                              int64_t nbp, int64_t nr, float *fp) {
    for (int64_t js = 0; js < nbp; js += 16) {
        float *p = fp + (js / nr) * kc * nr + js % nr;
        const int64_t w = js < nb ? min64(nb - js, 16) : 0;
        if (w == 16 && trans_f) {
            const float *fs = f + (jb + js) * ldf + k0;
            for (int64_t k = 0; k < kc; k++)
                for (int64_t j = 0; j < 16; j++) p[k * nr + j] = fs[j * ldf + k];
        } else if (w == 16) {
            const float *fs = f + k0 * ldf + jb + js;
            for (int64_t k = 0; k < kc; k++)
                for (int64_t j = 0; j < 16; j++) p[k * nr + j] = fs[k * ldf + j];
        } else {
            for (int64_t k = 0; k < kc; k++)
                for (int64_t j = 0; j < 16; j++)
                    p[k * nr + j] = j >= w ? 0.0f : trans_f ? f[(jb + js + j) * ldf + k0 + k] : f[(k0 + k) * ldf + jb + js + j];
        }
    }
}

SB_CLONES static void gg_gather_rows(const float *x, int64_t ldx, const int32_t *idx, int64_t r, float *xs,
                                     int64_t ldxs, int64_t i0, int64_t i1) {
    for (int64_t i = i0; i < i1; i++) {
        const float *xr = x + i * ldx;
        float *o = xs + i * ldxs;
        for (int64_t k = 0; k < r; k++) o[k] = xr[idx[k]];
    }
}

/* Few rows: packing F would cost as much as the product, so F is read in place once per row: along j (not
 * trans_f) as axpys into a stack chunk of the row; along k (trans_f) as dot products of length r, or for r < 16 as
 * axpys of F's strided columns. */
SBG_CLONES static void gg_rows_direct(const float *x, int64_t ldx, const int32_t *idx, int64_t r, const float *f,
                                      int64_t ldf, int trans_f, float alpha, float *c, int64_t ldc, int64_t i0,
                                      int64_t i1, int64_t j0, int64_t j1) {
    float xg[GG_KC], acc[GG_CHUNK];
    for (int64_t i = i0; i < i1; i++) {
        const float *xr = x + i * ldx;
        float *ci = c + i * ldc;
        for (int64_t k0 = 0; k0 < r; k0 += GG_KC) {
            const int64_t kc = min64(r - k0, GG_KC);
            for (int64_t k = 0; k < kc; k++) xg[k] = xr[idx[k0 + k]];
            if (trans_f && kc >= 16) {
                for (int64_t j = j0; j < j1; j++) {
                    const float *fr = f + j * ldf + k0;
                    float sum = 0.0f;
#pragma omp simd reduction(+ : sum)
                    for (int64_t k = 0; k < kc; k++) sum += xg[k] * fr[k];
                    ci[j] = MADD(alpha, sum, ci[j]);
                }
            } else {
                for (int64_t jb = j0; jb < j1; jb += GG_CHUNK) {
                    const int64_t w = min64(j1 - jb, GG_CHUNK);
                    for (int64_t j = 0; j < w; j++) acc[j] = 0.0f;
                    for (int64_t k = 0; k < kc; k++) {
                        const float v = xg[k];
                        if (trans_f) { /* a short dot per column would be all overhead: F's column k, strided */
                            const float *fc = f + jb * ldf + k0 + k;
                            for (int64_t j = 0; j < w; j++) acc[j] = MADD(v, fc[j * ldf], acc[j]);
                        } else {
                            const float *fr = f + (k0 + k) * ldf + jb;
                            for (int64_t j = 0; j < w; j++) acc[j] = MADD(v, fr[j], acc[j]);
                        }
                    }
                    for (int64_t j = 0; j < w; j++) ci[jb + j] = MADD(alpha, acc[j], ci[jb + j]);
                }
            }
        }
    }
}

/* Rows [i0, i1) and columns [j0, j1) of c; xs (when not NULL) receives x[i0..i1, idx] first. */
static void gg_range(int level, const float *x, int64_t ldx, const int32_t *idx, int64_t r, const float *f,
                     int64_t ldf, int trans_f, float alpha, float *c, int64_t ldc, float *xs, int64_t ldxs, int64_t i0,
                     int64_t i1, int64_t j0, int64_t j1) {
    float fp[GG_PANEL];
    const int64_t nr = level == 2 ? 32 : 16; /* the tile width of gg_block_512 / gg_block_256 */
    if (xs != NULL) gg_gather_rows(x, ldx, idx, r, xs, ldxs, i0, i1);
    if (i1 - i0 < GG_SMALL_M) {
        gg_rows_direct(x, ldx, idx, r, f, ldf, trans_f, alpha, c, ldc, i0, i1, j0, j1);
        return;
    }
    for (int64_t k0 = 0; k0 < r; k0 += GG_KC) {
        const int64_t kc = min64(r - k0, GG_KC);
        const int64_t nbmax = GG_PANEL / kc / GG_NRMAX * GG_NRMAX;
        for (int64_t jb = j0; jb < j1; jb += nbmax) {
            const int64_t nb = min64(j1 - jb, nbmax), nbp = (nb + nr - 1) / nr * nr;
            gg_pack(f, ldf, trans_f, k0, kc, jb, nb, nbp, nr, fp);
            gg_block(level, i1 - i0, nb, kc, x + i0 * ldx, ldx, idx + k0, xs != NULL ? xs + i0 * ldxs + k0 : NULL,
                     ldxs, fp, alpha, c + i0 * ldc + jb, ldc);
        }
    }
}

/* ---------------------------------------------------------------- GEMM + scatter */

#define GS_TBUF 16384          /* floats of sums kept on the stack (64 KiB): blocks of GS_TBUF / r rows */
#define GS_PANEL 16384         /* floats of F packed per k-block (64 KiB), F along k above 8 columns */
#define GS_FEW 64              /* at most this many rows may take the split over k */
#define GS_PACK_ROWS 32        /* F along k is packed for blocks of at least this many rows (else dot tiles) */
#define GS_DOT_COLS 4          /* F along j with at most this many columns goes through dot tiles */
#define GS_RPMAX 64            /* product columns per pass at most (r above it takes several) */
#define GS_FBYTES (256 * 1024) /* bytes of F per k-block: it stays in L2 while a block's rows stream past */
#define GSD_KB 512             /* k per block of the dot form: JR rows of F stay in L1 across a block's rows */

/* Broadcast form (F along j): t[0..MR, 0..RP) += a(MR x kc) * F(kc x RP), F's rows at stride fs, RP floats read
 * from each. */
#define GSB_TILE(RP, MR)                                                                                             \
    SBG_INLINE void gsb_tile_##RP##_##MR(int64_t kc, const float *a, int64_t lda, const float *f, int64_t fs,      \
                                          float *t, int64_t ts) {                                                  \
        float acc[MR][RP / 16][16];                                                                                \
        SBG_UNROLL                                                                                                 \
        for (int i = 0; i < MR; i++) {                                                                             \
            SBG_UNROLL                                                                                             \
            for (int v = 0; v < RP / 16; v++) SBG_LANES(l) acc[i][v][l] = 0.0f;                                    \
        }                                                                                                          \
        for (int64_t k = 0; k < kc; k++) {                                                                         \
            const float *fr = f + k * fs;                                                                          \
            SBG_UNROLL                                                                                             \
            for (int i = 0; i < MR; i++) {                                                                         \
                const float av = a[i * lda + k];                                                                   \
                SBG_UNROLL                                                                                         \
                for (int v = 0; v < RP / 16; v++) SBG_LANES(l) acc[i][v][l] = MADD(av, fr[v * 16 + l], acc[i][v][l]); \
            }                                                                                                      \
        }                                                                                                          \
        SBG_UNROLL                                                                                                 \
        for (int i = 0; i < MR; i++) {                                                                             \
            SBG_UNROLL                                                                                             \
            for (int v = 0; v < RP / 16; v++) {                                                                    \
                float *tv = t + i * ts + v * 16;                                                                   \
                SBG_LANES(l) tv[l] += acc[i][v][l];                                                                \
            }                                                                                                      \
        }                                                                                                          \
    }

GSB_TILE(16, 8)
GSB_TILE(32, 8)
GSB_TILE(48, 8)
GSB_TILE(64, 6)
GSB_TILE(16, 6)
GSB_TILE(32, 3)
GSB_TILE(16, 1)
GSB_TILE(32, 1)
GSB_TILE(48, 1)
GSB_TILE(64, 1)

/* t rows [0, mb) += a(mb x kc) * F(kc x RP): tiles of MR rows, then single rows. */
#define GSB_ROWS(SUF, TARGET, RP, MR)                                                                                \
    TARGET static void gsb_rows_##SUF##_##RP(int64_t mb, int64_t kc, const float *a, int64_t lda, const float *f,   \
                                             int64_t fs, float *t, int64_t ts) {                                     \
        int64_t i = 0;                                                                                               \
        for (; i + MR <= mb; i += MR) gsb_tile_##RP##_##MR(kc, a + i * lda, lda, f, fs, t + i * ts, ts);            \
        for (; i < mb; i++) gsb_tile_##RP##_1(kc, a + i * lda, lda, f, fs, t + i * ts, ts);                         \
    }

#ifdef SBG_X86
GSB_ROWS(512, SBG_T512, 16, 8)
GSB_ROWS(512, SBG_T512, 32, 8)
GSB_ROWS(512, SBG_T512, 48, 8)
GSB_ROWS(512, SBG_T512, 64, 6)
#endif
GSB_ROWS(256, SBG_T256, 16, 6)
GSB_ROWS(256, SBG_T256, 32, 3)

/* Product columns per pass: a pass's rows of t are at most this wide. */
static int64_t gs_rpmax(int level) { return level == 2 ? 64 : 32; }

static void gsb_rows(int level, int64_t mb, int64_t kc, const float *a, int64_t lda, const float *f, int64_t fs,
                     int64_t rp, float *t, int64_t ts) {
#ifdef SBG_X86
    if (level == 2) {
        switch (rp) {
        case 16: gsb_rows_512_16(mb, kc, a, lda, f, fs, t, ts); break;
        case 32: gsb_rows_512_32(mb, kc, a, lda, f, fs, t, ts); break;
        case 48: gsb_rows_512_48(mb, kc, a, lda, f, fs, t, ts); break;
        default: gsb_rows_512_64(mb, kc, a, lda, f, fs, t, ts); break;
        }
        return;
    }
#endif
    (void)level;
    if (rp == 16) gsb_rows_256_16(mb, kc, a, lda, f, fs, t, ts);
    else gsb_rows_256_32(mb, kc, a, lda, f, fs, t, ts);
}

/* Dot form (F along k): t[i, j] += sum_k a[i, k] * f[j * ldf + k] for MR rows and JR columns, 16 lanes over k
 * reduced at the end (pairwise), the last kc % 16 terms added after. */
#define GSD_TILE(MR, JR)                                                                                             \
    SBG_INLINE void gsd_tile_##MR##_##JR(int64_t kc, const float *a, int64_t lda, const float *f, int64_t ldf,     \
                                          float *t, int64_t ts) {                                                  \
        float acc[MR][JR][16];                                                                                     \
        SBG_UNROLL                                                                                                 \
        for (int i = 0; i < MR; i++) {                                                                             \
            SBG_UNROLL                                                                                             \
            for (int j = 0; j < JR; j++) SBG_LANES(l) acc[i][j][l] = 0.0f;                                         \
        }                                                                                                          \
        const int64_t k16 = kc / 16 * 16;                                                                          \
        for (int64_t k = 0; k < k16; k += 16) {                                                                    \
            SBG_UNROLL                                                                                             \
            for (int i = 0; i < MR; i++) {                                                                         \
                SBG_UNROLL                                                                                         \
                for (int j = 0; j < JR; j++)                                                                       \
                    SBG_LANES(l) acc[i][j][l] = MADD(a[i * lda + k + l], f[j * ldf + k + l], acc[i][j][l]);         \
            }                                                                                                      \
        }                                                                                                          \
        for (int i = 0; i < MR; i++)                                                                               \
            for (int j = 0; j < JR; j++) {                                                                         \
                float *v = acc[i][j];                                                                              \
                for (int l = 0; l < 8; l++) v[l] += v[l + 8];                                                      \
                for (int l = 0; l < 4; l++) v[l] += v[l + 4];                                                      \
                float s = (v[0] + v[2]) + (v[1] + v[3]);                                                           \
                for (int64_t k = k16; k < kc; k++) s = MADD(a[i * lda + k], f[j * ldf + k], s);                    \
                t[i * ts + j] += s;                                                                                \
            }                                                                                                      \
    }

GSD_TILE(2, 8)
GSD_TILE(4, 4)
GSD_TILE(6, 2)
GSD_TILE(8, 1)
GSD_TILE(3, 2)
GSD_TILE(6, 1)
GSD_TILE(1, 8)
GSD_TILE(1, 4)
GSD_TILE(1, 2)
GSD_TILE(1, 1)

/* t rows [0, mb), columns [0, JR) += a(mb x kc) * F^T */
#define GSD_COLS(SUF, TARGET, JR, MR)                                                                                \
    TARGET static void gsd_cols_##SUF##_##JR(int64_t mb, int64_t kc, const float *a, int64_t lda, const float *f,   \
                                             int64_t ldf, float *t, int64_t ts) {                                    \
        int64_t i = 0;                                                                                               \
        for (; i + MR <= mb; i += MR) gsd_tile_##MR##_##JR(kc, a + i * lda, lda, f, ldf, t + i * ts, ts);           \
        for (; i < mb; i++) gsd_tile_1_##JR(kc, a + i * lda, lda, f, ldf, t + i * ts, ts);                          \
    }

#ifdef SBG_X86
GSD_COLS(512, SBG_T512, 8, 2)
GSD_COLS(512, SBG_T512, 4, 4)
GSD_COLS(512, SBG_T512, 2, 6)
GSD_COLS(512, SBG_T512, 1, 8)
#endif
GSD_COLS(256, SBG_T256, 2, 3)
GSD_COLS(256, SBG_T256, 1, 6)

static void gsd_rows(int level, int64_t mb, int64_t kc, const float *a, int64_t lda, const float *f, int64_t ldf,
                     int64_t rc, float *t, int64_t ts) {
    int64_t j = 0;
#ifdef SBG_X86
    if (level == 2) {
        for (; j + 8 <= rc; j += 8) gsd_cols_512_8(mb, kc, a, lda, f + j * ldf, ldf, t + j, ts);
        for (; j + 4 <= rc; j += 4) gsd_cols_512_4(mb, kc, a, lda, f + j * ldf, ldf, t + j, ts);
        for (; j + 2 <= rc; j += 2) gsd_cols_512_2(mb, kc, a, lda, f + j * ldf, ldf, t + j, ts);
        for (; j < rc; j++) gsd_cols_512_1(mb, kc, a, lda, f + j * ldf, ldf, t + j, ts);
        return;
    }
#endif
    (void)level;
    for (; j + 2 <= rc; j += 2) gsd_cols_256_2(mb, kc, a, lda, f + j * ldf, ldf, t + j, ts);
    for (; j < rc; j++) gsd_cols_256_1(mb, kc, a, lda, f + j * ldf, ldf, t + j, ts);
}

/* fp (kc x rp) = F(k0 + k, j0 + j) for F along k (f[j * ldf + k]), zeros for j in [rc, rp): a transpose, 16 k at a
 * time (rc rows of f in, 16 runs of rp floats out). */
SB_CLONES static void gs_pack_t(const float *f, int64_t ldf, int64_t j0, int64_t rc, int64_t rp, int64_t k0,
                                int64_t kc, float *fp) {
    for (int64_t ks = 0; ks < kc; ks += 16) {
        const int64_t w = min64(kc - ks, 16);
        for (int64_t j = 0; j < rc; j++) {
            const float *fr = f + (j0 + j) * ldf + k0 + ks;
            for (int64_t k = 0; k < w; k++) fp[(ks + k) * rp + j] = fr[k];
        }
        for (int64_t k = 0; k < w; k++)
            for (int64_t j = rc; j < rp; j++) fp[(ks + k) * rp + j] = 0.0f;
    }
}

/* t (mb x rc, row stride ts) += a(mb rows) * F(k in [k0, k1), j in [j0, j0 + rc)), F along k (trans_f). Above 8
 * columns and from GS_PACK_ROWS rows, F is packed along j one k-block at a time for the broadcast tiles (the
 * packing is paid once per block of rows, hence the large blocks of rows); otherwise the dot tiles read F's rows in
 * place. */
static void gs_block_t(int level, const float *a, int64_t lda, int64_t mb, const float *f, int64_t ldf, int64_t j0, int64_t rc,
                       int64_t k0, int64_t k1, float *t, int64_t ts) {
    if (rc <= 8 || mb < GS_PACK_ROWS) {
        for (int64_t kb0 = k0; kb0 < k1; kb0 += GSD_KB)
            gsd_rows(level, mb, min64(k1 - kb0, GSD_KB), a + kb0, lda, f + j0 * ldf + kb0, ldf, rc, t, ts);
        return;
    }
    float fp[GS_PANEL];
    const int64_t rp = (rc + 15) / 16 * 16, kb = GS_PANEL / rp;
    for (int64_t kb0 = k0; kb0 < k1; kb0 += kb) {
        const int64_t kc = min64(k1 - kb0, kb);
        gs_pack_t(f, ldf, j0, rc, rp, kb0, kc, fp);
        gsb_rows(level, mb, kc, a + kb0, lda, fp, rp, rp, t, ts);
    }
}

/* The same for F along j (not trans_f): F's rows are read in place, rp wide (rc rounded up to 16); past rc they
 * read the next row's values, whose products land in columns of t that are never scattered. The last rows, whose
 * wide reads would pass the end of f, go through a zero-padded copy. */
static void gs_block_n(int level, const float *a, int64_t lda, int64_t mb, const float *f, int64_t ldf, int64_t j0, int64_t rc,
                       int64_t k0, int64_t k1, float *t, int64_t ts) {
    if (rc <= GS_DOT_COLS) { /* 16-wide rows would be mostly waste: F's few columns packed along k, dot tiles */
        float fp[GS_DOT_COLS * GSD_KB];
        for (int64_t kb0 = k0; kb0 < k1; kb0 += GSD_KB) {
            const int64_t kc = min64(k1 - kb0, GSD_KB);
            for (int64_t j = 0; j < rc; j++)
                for (int64_t k = 0; k < kc; k++) fp[j * kc + k] = f[(kb0 + k) * ldf + j0 + j];
            gsd_rows(level, mb, kc, a + kb0, lda, fp, kc, rc, t, ts);
        }
        return;
    }
    const int64_t rp = (rc + 15) / 16 * 16;
    const int64_t ktail = rp == rc ? 0 : min64((rp - rc + ldf - 1) / ldf, k1 - k0);
    const int64_t kdirect = k1 - ktail, kb = GS_FBYTES / 4 / rp;
    for (int64_t kb0 = k0; kb0 < kdirect; kb0 += kb)
        gsb_rows(level, mb, min64(kdirect - kb0, kb), a + kb0, lda, f + kb0 * ldf + j0, ldf, rp, t, ts);
    if (ktail > 0) {
        float ftail[16 * GS_RPMAX];
        for (int64_t k = 0; k < ktail; k++)
            for (int64_t j = 0; j < rp; j++) ftail[k * rp + j] = j < rc ? f[(kdirect + k) * ldf + j0 + j] : 0.0f;
        gsb_rows(level, mb, ktail, a + kdirect, lda, ftail, rp, rp, t, ts);
    }
}

static void gs_block(int level, const float *a, int64_t lda, int64_t mb, const float *f, int64_t ldf, int trans_f,
                     int64_t j0, int64_t rc, int64_t k0, int64_t k1, float *t, int64_t ts) {
    if (trans_f) gs_block_t(level, a, lda, mb, f, ldf, j0, rc, k0, k1, t, ts);
    else gs_block_n(level, a, lda, mb, f, ldf, j0, rc, k0, k1, t, ts);
}

/* c[i, idx[j]] += alpha * t[i, j] */
SBG_CLONES static void gs_scatter(float *c, int64_t ldc, const int32_t *idx, int64_t mb, int64_t rc, float alpha,
                                  const float *t, int64_t ts) {
    for (int64_t i = 0; i < mb; i++) {
        float *ci = c + i * ldc;
        const float *ti = t + i * ts;
        for (int64_t j = 0; j < rc; j++) ci[idx[j]] = MADD(alpha, ti[j], ci[idx[j]]);
    }
}

/* Rows [i0, i1), product columns [j0, j0 + rc), all of k: blocks of GS_TBUF / rp rows. */
static void gs_rows_range(int level, const float *a, int64_t kdim, int64_t lda, const float *f, int64_t ldf, int trans_f,
                          const int32_t *idx, int64_t j0, int64_t rc, float alpha, float *c, int64_t ldc, int64_t i0,
                          int64_t i1) {
    float t[GS_TBUF];
    const int64_t ts = (rc + 15) / 16 * 16, mbmax = GS_TBUF / ts;
    for (int64_t ib = i0; ib < i1; ib += mbmax) {
        const int64_t mb = min64(i1 - ib, mbmax);
        for (int64_t i = 0; i < mb * ts; i++) t[i] = 0.0f;
        gs_block(level, a + ib * lda, lda, mb, f, ldf, trans_f, j0, rc, 0, kdim, t, ts);
        gs_scatter(c + ib * ldc, ldc, idx + j0, mb, rc, alpha, t, ts);
    }
}

/* ---------------------------------------------------------------- a^T * b with few columns (dB) */

#define TN_TB 256 /* rows of a and b per block: a's strip of the block stays in L1 while every KT of r go past */

/* A tile set of sb_gemm_tn_small: OV vectors of 16 columns of a (rows of c) x KT columns of b (columns of c).
 * tn_tile: acc[k][v] = sum over tb rows of b[t, k] * a[t, 16 v..]; tn_cols: c rows [o0, o1) for one block of rows,
 * first (write) or not (add); the last r % KT columns of b one at a time, the last n % (16 OV) rows of c by a plain
 * loop. */
#define TN_DEFINE(SUF, TARGET, OV, KT)                                                                               \
    SBG_INLINE void tn_tile_##SUF##_##KT(int64_t tb, const float *a, int64_t lda, const float *b, int64_t ldb,     \
                                         float alpha, int first, float *c, int64_t ldc) {                          \
        float acc[KT][OV][16];                                                                                     \
        SBG_UNROLL                                                                                                 \
        for (int k = 0; k < KT; k++) {                                                                             \
            SBG_UNROLL                                                                                             \
            for (int v = 0; v < OV; v++) SBG_LANES(l) acc[k][v][l] = 0.0f;                                         \
        }                                                                                                          \
        for (int64_t t = 0; t < tb; t++) {                                                                         \
            const float *ar = a + t * lda, *br = b + t * ldb;                                                      \
            SBG_UNROLL                                                                                             \
            for (int k = 0; k < KT; k++) {                                                                         \
                const float bv = br[k];                                                                            \
                SBG_UNROLL                                                                                         \
                for (int v = 0; v < OV; v++) SBG_LANES(l) acc[k][v][l] = MADD(bv, ar[v * 16 + l], acc[k][v][l]);   \
            }                                                                                                      \
        }                                                                                                          \
        for (int v = 0; v < OV; v++)                                                                               \
            for (int l = 0; l < 16; l++)                                                                           \
                for (int k = 0; k < KT; k++) {                                                                     \
                    float *p = c + (v * 16 + l) * ldc + k;                                                         \
                    *p = first ? alpha * acc[k][v][l] : MADD(alpha, acc[k][v][l], *p);                             \
                }                                                                                                  \
    }                                                                                                              \
    TARGET static void tn_cols_##SUF(int64_t tb, const float *a, int64_t lda, const float *b, int64_t ldb,          \
                                     int64_t r, float alpha, int first, float *c, int64_t ldc, int64_t o0,          \
                                     int64_t o1) {                                                                 \
        enum { OT = 16 * OV };                                                                                     \
        int64_t o = o0;                                                                                            \
        for (; o + OT <= o1; o += OT) {                                                                            \
            int64_t k = 0;                                                                                         \
            for (; k + KT <= r; k += KT)                                                                           \
                tn_tile_##SUF##_##KT(tb, a + o, lda, b + k, ldb, alpha, first, c + o * ldc + k, ldc);              \
            for (; k < r; k++) tn_tile_##SUF##_1(tb, a + o, lda, b + k, ldb, alpha, first, c + o * ldc + k, ldc);  \
        }                                                                                                          \
        for (; o + 16 <= o1; o += 16) {                                                                            \
            int64_t k = 0;                                                                                         \
            for (; k + 4 <= r; k += 4) tn_tile_16_4(tb, a + o, lda, b + k, ldb, alpha, first, c + o * ldc + k, ldc); \
            for (; k < r; k++) tn_tile_16_1(tb, a + o, lda, b + k, ldb, alpha, first, c + o * ldc + k, ldc);       \
        }                                                                                                          \
        for (; o < o1; o++)                                                                                        \
            for (int64_t k = 0; k < r; k++) {                                                                      \
                float sum = 0.0f;                                                                                  \
                for (int64_t t = 0; t < tb; t++) sum = MADD(b[t * ldb + k], a[t * lda + o], sum);                  \
                c[o * ldc + k] = first ? alpha * sum : MADD(alpha, sum, c[o * ldc + k]);                           \
            }                                                                                                      \
    }

#define TN_TILE_ONLY(SUF, OV, KT) /* the one-column tile each set needs besides its own */                         \
    SBG_INLINE void tn_tile_##SUF##_##KT(int64_t tb, const float *a, int64_t lda, const float *b, int64_t ldb,     \
                                         float alpha, int first, float *c, int64_t ldc) {                          \
        float acc[OV][16];                                                                                         \
        SBG_UNROLL                                                                                                 \
        for (int v = 0; v < OV; v++) SBG_LANES(l) acc[v][l] = 0.0f;                                                \
        for (int64_t t = 0; t < tb; t++) {                                                                         \
            const float bv = b[t * ldb], *ar = a + t * lda;                                                        \
            SBG_UNROLL                                                                                             \
            for (int v = 0; v < OV; v++) SBG_LANES(l) acc[v][l] = MADD(bv, ar[v * 16 + l], acc[v][l]);              \
        }                                                                                                          \
        for (int v = 0; v < OV; v++)                                                                               \
            for (int l = 0; l < 16; l++) {                                                                         \
                float *p = c + (v * 16 + l) * ldc;                                                                 \
                *p = first ? alpha * acc[v][l] : MADD(alpha, acc[v][l], *p);                                       \
            }                                                                                                      \
    }

/* 16 rows of c wide: the rest of a thread's rows past its wide tiles, and the AVX2 set's own tiles */
#define TN_TILE16(KT)                                                                                                \
    SBG_INLINE void tn_tile_16_##KT(int64_t tb, const float *a, int64_t lda, const float *b, int64_t ldb,          \
                                    float alpha, int first, float *c, int64_t ldc) {                               \
        float acc[KT][16];                                                                                         \
        SBG_UNROLL                                                                                                 \
        for (int k = 0; k < KT; k++) SBG_LANES(l) acc[k][l] = 0.0f;                                                \
        for (int64_t t = 0; t < tb; t++) {                                                                         \
            const float *ar = a + t * lda, *br = b + t * ldb;                                                      \
            SBG_UNROLL                                                                                             \
            for (int k = 0; k < KT; k++) {                                                                         \
                const float bv = br[k];                                                                            \
                SBG_LANES(l) acc[k][l] = MADD(bv, ar[l], acc[k][l]);                                               \
            }                                                                                                      \
        }                                                                                                          \
        for (int l = 0; l < 16; l++)                                                                               \
            for (int k = 0; k < KT; k++) {                                                                         \
                float *p = c + l * ldc + k;                                                                        \
                *p = first ? alpha * acc[k][l] : MADD(alpha, acc[k][l], *p);                                       \
            }                                                                                                      \
    }
TN_TILE16(4)
TN_TILE16(1)

#ifdef SBG_X86
TN_TILE_ONLY(512, 2, 1)
TN_DEFINE(512, SBG_T512, 2, 8)
#endif
TN_TILE_ONLY(256, 1, 1)
TN_DEFINE(256, SBG_T256, 1, 4)

/* Rows [o0, o1) of c over all of a's rows, in blocks of TN_TB. */
static void tn_range(int level, const float *a, int64_t m, int64_t lda, const float *b, int64_t r, int64_t ldb,
                     float alpha, float *c, int64_t ldc, int64_t o0, int64_t o1) {
    for (int64_t t0 = 0; t0 < m; t0 += TN_TB) {
        const int64_t tb = min64(m - t0, TN_TB);
#ifdef SBG_X86
        if (level == 2) {
            tn_cols_512(tb, a + t0 * lda, lda, b + t0 * ldb, ldb, r, alpha, t0 == 0, c, ldc, o0, o1);
            continue;
        }
#endif
        tn_cols_256(tb, a + t0 * lda, lda, b + t0 * ldb, ldb, r, alpha, t0 == 0, c, ldc, o0, o1);
    }
}

/* ---------------------------------------------------------------- without FMA: plain loops */

SB_CLONES static void plain_gather_gemm(const float *x, int64_t m, int64_t ldx, const int32_t *idx, int64_t r,
                                        const float *f, int64_t ldf, int trans_f, int64_t n, float alpha, float *c,
                                        int64_t ldc, float *xs, int64_t ldxs) {
    for (int64_t i = 0; i < m; i++) {
        float *ci = c + i * ldc;
        for (int64_t k = 0; k < r; k++) {
            const float xv = x[i * ldx + idx[k]];
            if (xs != NULL) xs[i * ldxs + k] = xv;
            const float s = alpha * xv;
            if (trans_f)
                for (int64_t j = 0; j < n; j++) ci[j] += s * f[j * ldf + k];
            else
                for (int64_t j = 0; j < n; j++) ci[j] += s * f[k * ldf + j];
        }
    }
}

SB_CLONES static void plain_gemm_scatter(const float *a, int64_t m, int64_t kdim, int64_t lda, const float *f,
                                         int64_t ldf, int trans_f, const int32_t *idx, int64_t r, float alpha,
                                         float *c, int64_t ldc) {
    for (int64_t i = 0; i < m; i++)
        for (int64_t j = 0; j < r; j++) {
            float s = 0.0f;
            if (trans_f)
                for (int64_t k = 0; k < kdim; k++) s += a[i * lda + k] * f[j * ldf + k];
            else
                for (int64_t k = 0; k < kdim; k++) s += a[i * lda + k] * f[k * ldf + j];
            c[i * ldc + idx[j]] += alpha * s;
        }
}

SB_CLONES static void plain_gemm_tn_small(const float *a, int64_t m, int64_t n, int64_t lda, const float *b, int64_t r,
                                          int64_t ldb, float alpha, float *c, int64_t ldc) {
    for (int64_t j = 0; j < n; j++)
        for (int64_t k = 0; k < r; k++) c[j * ldc + k] = 0.0f;
    for (int64_t i = 0; i < m; i++)
        for (int64_t j = 0; j < n; j++) {
            const float v = a[i * lda + j];
            for (int64_t k = 0; k < r; k++) c[j * ldc + k] += v * b[i * ldb + k];
        }
    for (int64_t j = 0; j < n; j++)
        for (int64_t k = 0; k < r; k++) c[j * ldc + k] *= alpha;
}

/* ---------------------------------------------------------------- entry points */

/* Work estimate for the thread policy: the elements of c touched, weighted by the rank. */
static int64_t fused_work(int64_t m, int64_t n, int64_t r) { return m * (n + 1) * (1 + min64(r, 64) / 8); }

int sb_gather_gemm(const float *x, int64_t m, int64_t ldx, const int32_t *idx, int64_t r, const float *f, int64_t ldf,
                   int trans_f, int64_t n, float alpha, float *c, int64_t ldc, float *xs, int64_t ldxs) {
    SB_CHECK(m >= 0 && r >= 0 && n >= 0 && ldx >= 1 && ldc >= n && ldf >= (trans_f ? r : n));
    SB_CHECK(xs == NULL || ldxs >= r);
    if (m == 0 || r == 0) return SB_OK;
    SB_CHECK(x != NULL && idx != NULL);
    SB_CHECK(n == 0 || (c != NULL && f != NULL));
    if (!sb_indices_in_range(idx, r, ldx)) return SB_ERR_INDEX;
    if (n == 0) {
        if (xs != NULL) SB_PARALLEL_CHUNKS(m, m * r, lo, hi, gg_gather_rows(x, ldx, idx, r, xs, ldxs, lo, hi));
        return SB_OK;
    }
    const int level = sbg_level();
    if (level == 0) {
        plain_gather_gemm(x, m, ldx, idx, r, f, ldf, trans_f, n, alpha, c, ldc, xs, ldxs);
        return SB_OK;
    }
    const int nt = sb_threads_for(fused_work(m, n, r));
    if (nt <= 1) {
        gg_range(level, x, ldx, idx, r, f, ldf, trans_f, alpha, c, ldc, xs, ldxs, 0, m, 0, n);
        return SB_OK;
    }
    /* Rows when each thread gets a few tiles' worth (each packs all of F), else columns (each gathers all rows). */
    const int by_rows = m >= (int64_t)nt * 4 * GG_MR || n < (int64_t)nt * GG_NRMAX;
#pragma omp parallel num_threads(nt)
    {
        const int tid = omp_get_thread_num(), nth = omp_get_num_threads();
        if (by_rows) {
            const int64_t lo = (m * tid / nth + GG_MR - 1) / GG_MR * GG_MR;
            int64_t hi = (m * (tid + 1) / nth + GG_MR - 1) / GG_MR * GG_MR;
            if (hi > m || tid == nth - 1) hi = m;
            if (lo < hi) gg_range(level, x, ldx, idx, r, f, ldf, trans_f, alpha, c, ldc, xs, ldxs, lo, hi, 0, n);
        } else {
            const int64_t lo = (n * tid / nth + GG_NRMAX - 1) / GG_NRMAX * GG_NRMAX;
            int64_t hi = (n * (tid + 1) / nth + GG_NRMAX - 1) / GG_NRMAX * GG_NRMAX;
            if (hi > n || tid == nth - 1) hi = n;
            /* the first thread also writes xs */
            if (lo < hi || (tid == 0 && xs != NULL))
                gg_range(level, x, ldx, idx, r, f, ldf, trans_f, alpha, c, ldc, tid == 0 ? xs : NULL, ldxs, 0, m, lo,
                         hi);
        }
    }
    return SB_OK;
}

#define GS_MAX_THREADS 256

int sb_gemm_scatter(const float *a, int64_t m, int64_t kdim, int64_t lda, const float *f, int64_t ldf, int trans_f,
                    const int32_t *idx, int64_t r, float alpha, float *c, int64_t ldc) {
    SB_CHECK(m >= 0 && kdim >= 0 && r >= 0 && lda >= kdim && ldf >= (trans_f ? kdim : r) && ldc >= 1);
    if (m == 0 || r == 0) return SB_OK;
    SB_CHECK(c != NULL && idx != NULL);
    if (!sb_indices_in_range(idx, r, ldc)) return SB_ERR_INDEX;
    if (kdim == 0) return SB_OK; /* an empty sum adds nothing */
    SB_CHECK(a != NULL && f != NULL);
    const int level = sbg_level();
    if (level == 0) {
        plain_gemm_scatter(a, m, kdim, lda, f, ldf, trans_f, idx, r, alpha, c, ldc);
        return SB_OK;
    }
    int nt = sb_threads_for(fused_work(m, kdim, r));
    if (nt > GS_MAX_THREADS) nt = GS_MAX_THREADS;
    const int64_t rpmax = gs_rpmax(level);
    for (int64_t j0 = 0; j0 < r; j0 += rpmax) {
        const int64_t rc = min64(r - j0, rpmax);
        if (nt <= 1) {
            gs_rows_range(level, a, kdim, lda, f, ldf, trans_f, idx, j0, rc, alpha, c, ldc, 0, m);
        } else if (m >= 8 * (int64_t)nt || m > GS_FEW) {
#pragma omp parallel num_threads(nt)
            {
                const int tid = omp_get_thread_num(), nth = omp_get_num_threads();
                const int64_t lo = m * tid / nth, hi = m * (tid + 1) / nth;
                if (lo < hi) gs_rows_range(level, a, kdim, lda, f, ldf, trans_f, idx, j0, rc, alpha, c, ldc, lo, hi);
            }
        } else {
            /* Few rows: threads split k, each sums its range on its own stack, and the first adds the partial sums
             * in thread order (the same result for the same thread count) before scattering them. */
            float *parts[GS_MAX_THREADS];
#pragma omp parallel num_threads(nt)
            {
                const int tid = omp_get_thread_num(), nth = omp_get_num_threads();
                float t[GS_FEW * GS_RPMAX];
                const int64_t k0 = kdim * tid / nth / 16 * 16;
                const int64_t k1 = tid == nth - 1 ? kdim : kdim * (tid + 1) / nth / 16 * 16;
                for (int64_t i = 0; i < m * GS_RPMAX; i++) t[i] = 0.0f;
                if (k0 < k1) gs_block(level, a, lda, m, f, ldf, trans_f, j0, rc, k0, k1, t, GS_RPMAX);
                parts[tid] = t;
#pragma omp barrier
                if (tid == 0) {
                    for (int q = 1; q < nth; q++)
                        for (int64_t i = 0; i < m * GS_RPMAX; i++) t[i] += parts[q][i];
                    gs_scatter(c, ldc, idx + j0, m, rc, alpha, t, GS_RPMAX);
                }
#pragma omp barrier
            }
        }
    }
    return SB_OK;
}

int sb_gemm_tn_small(const float *a, int64_t m, int64_t n, int64_t lda, const float *b, int64_t r, int64_t ldb,
                     float alpha, float *c, int64_t ldc) {
    SB_CHECK(m >= 0 && n >= 0 && r >= 0 && lda >= n && ldb >= r && ldc >= r);
    if (n == 0 || r == 0) return SB_OK;
    SB_CHECK(c != NULL);
    if (m == 0) { /* an empty sum */
        for (int64_t j = 0; j < n; j++)
            for (int64_t k = 0; k < r; k++) c[j * ldc + k] = 0.0f;
        return SB_OK;
    }
    SB_CHECK(a != NULL && b != NULL);
    const int level = sbg_level();
    if (level == 0) {
        plain_gemm_tn_small(a, m, n, lda, b, r, ldb, alpha, c, ldc);
        return SB_OK;
    }
    /* Threads split c's rows (a's columns) in multiples of 32: each owns its rows, no reduction. */
    const int nt = sb_threads_for(fused_work(n, m, r));
    if (nt <= 1) {
        tn_range(level, a, m, lda, b, r, ldb, alpha, c, ldc, 0, n);
        return SB_OK;
    }
#pragma omp parallel num_threads(nt)
    {
        const int tid = omp_get_thread_num(), nth = omp_get_num_threads();
        const int64_t lo = (n * tid / nth + 31) / 32 * 32;
        int64_t hi = (n * (tid + 1) / nth + 31) / 32 * 32;
        if (hi > n || tid == nth - 1) hi = n;
        if (lo < hi) tn_range(level, a, m, lda, b, r, ldb, alpha, c, ldc, lo, hi);
    }
    return SB_OK;
}
