/* Causal softmax attention with grouped-query heads, forward and backward, in the FlashAttention-2 style (Dao 2023,
 * "FlashAttention-2", Algorithm 1 for the forward, whose line numbers the comments cite, and Algorithm 2): the
 * sequence is cut into tiles of BQ queries and BK keys, a tile of scores is a small matrix product, the forward keeps
 * a running softmax (max and sum) so that no seq x seq matrix ever exists, and the backward recomputes the
 * probabilities tile by tile from the log-sum-exp the forward saved. Tiles entirely above the causal diagonal are
 * skipped.
 *
 * A score tile is kept transposed, st[j][i] for key j and query i, so that the softmax statistics (one per query)
 * run along the contiguous axis and every softmax step is an elementwise loop over a row of the tile.
 *
 * Every matrix product is tile_gemm below, whose B operand must be a tile on the stack: the transposed query tile
 * (and dO tile in the backward) for the scores, and a copy of the rows of V, dO, Q or K, a slice of columns at a
 * time, for the rest.
 *
 * Parallelism: the forward runs one task per (batch, head, query tile), each writing its own rows of out and lse.
 * The backward runs one task per (batch, kv head): it owns dk and dv of that kv head and dq of the query heads that
 * read it, so no two threads write the same memory. Kernels never allocate: the tiles live on the stack, at most
 * (2 DC + 3 BK) BQ floats (112 KiB) in the backward. */
#include "sb_internal.h"
#include "sb_math.h"

#include <math.h>

enum {
    TW = 64,  /* row length of every stack tile (the B operands and the score tiles) */
    BQ = TW,  /* queries in a tile: the vectorised axis of a score tile */
    BK = 64,  /* keys in a tile */
    DC = 128, /* head_dim slice of a transposed Q or dO tile; wider heads are transposed a slice at a time */
};

/* Helpers are always inlined: they then take the instruction set of the target_clones clone they are called from
 * (a call would reach the baseline x86-64 version) and specialise on the constant arguments of each call. */
#define SB_INLINE static inline __attribute__((always_inline))

typedef struct {
    const float *q, *k, *v, *out, *lse, *dout;
    float *dst_out, *dst_lse, *dq, *dk, *dv;
    int64_t seq, heads, head_dim, qw, kw, group;
    float scale;
} attn_args;

static inline int64_t min64(int64_t a, int64_t b) {
    return a < b ? a : b;
}

/* Columns of a tile rounded up to whole vectors of every target (16 floats for AVX-512). */
static inline int64_t padded(int64_t n) {
    return (n + 15) & ~(int64_t)15;
}

/* ---- the matrix products ----
 *
 * All of them are C = s C + A B with B a stack tile (rows of TW floats), written for outer-loop vectorisation:
 * omp simd on the loop over the columns of C, so that each vector lane keeps the running sums of four rows of C in
 * registers while k runs over the whole depth, every step one contiguous load of B and four broadcasts of A, as in
 * a register-blocked GEMM micro-kernel; C is read and written once. GCC vectorises that form only when B's row
 * stride is a compile-time constant (hence the stack tiles) and when the inner loop has no zero-trip guard (hence
 * the do-while: depth >= 1). Each sum runs in the order k = 0, 1, ..., as a plain dot product does. */

/* Four rows of C over all TW columns, each lane computing columns j and j + TW/2: eight independent sums a lane
 * rather than four, so that the additions' latency stays hidden behind the other sums. */
SB_INLINE void gemm_rows4_full(int64_t depth, const float *a0, int64_t a_row, int64_t a_col, const float *b, float *c0,
                               int64_t ldc, int overwrite, const float *s) {
    const float *a1 = a0 + a_row, *a2 = a1 + a_row, *a3 = a2 + a_row;
    float *c1 = c0 + ldc, *c2 = c1 + ldc, *c3 = c2 + ldc;
    const float s0 = overwrite ? 0.0f : s ? s[0] : 1.0f, s1 = overwrite ? 0.0f : s ? s[1] : 1.0f;
    const float s2 = overwrite ? 0.0f : s ? s[2] : 1.0f, s3 = overwrite ? 0.0f : s ? s[3] : 1.0f;
    enum { H = TW / 2 };
#pragma omp simd
    for (int64_t j = 0; j < H; j++) {
        float x0 = overwrite ? 0.0f : c0[j] * s0, x1 = overwrite ? 0.0f : c1[j] * s1;
        float x2 = overwrite ? 0.0f : c2[j] * s2, x3 = overwrite ? 0.0f : c3[j] * s3;
        float y0 = overwrite ? 0.0f : c0[j + H] * s0, y1 = overwrite ? 0.0f : c1[j + H] * s1;
        float y2 = overwrite ? 0.0f : c2[j + H] * s2, y3 = overwrite ? 0.0f : c3[j + H] * s3;
        int64_t k = 0;
        do {
            const float bx = b[k * TW + j], by = b[k * TW + j + H];
            const float e0 = a0[k * a_col], e1 = a1[k * a_col], e2 = a2[k * a_col], e3 = a3[k * a_col];
            x0 += e0 * bx;
            x1 += e1 * bx;
            x2 += e2 * bx;
            x3 += e3 * bx;
            y0 += e0 * by;
            y1 += e1 * by;
            y2 += e2 * by;
            y3 += e3 * by;
        } while (++k < depth);
        c0[j] = x0, c1[j] = x1, c2[j] = x2, c3[j] = x3;
        c0[j + H] = y0, c1[j + H] = y1, c2[j + H] = y2, c3[j + H] = y3;
    }
}

/* Four rows of C over any number of columns, one column a lane. */
SB_INLINE void gemm_rows4(int64_t cols, int64_t depth, const float *a0, int64_t a_row, int64_t a_col, const float *b,
                          float *c0, int64_t ldc, int overwrite, const float *s) {
    const float *a1 = a0 + a_row, *a2 = a1 + a_row, *a3 = a2 + a_row;
    float *c1 = c0 + ldc, *c2 = c1 + ldc, *c3 = c2 + ldc;
    const float s0 = overwrite ? 0.0f : s ? s[0] : 1.0f, s1 = overwrite ? 0.0f : s ? s[1] : 1.0f;
    const float s2 = overwrite ? 0.0f : s ? s[2] : 1.0f, s3 = overwrite ? 0.0f : s ? s[3] : 1.0f;
#pragma omp simd
    for (int64_t j = 0; j < cols; j++) {
        float x0 = overwrite ? 0.0f : c0[j] * s0, x1 = overwrite ? 0.0f : c1[j] * s1;
        float x2 = overwrite ? 0.0f : c2[j] * s2, x3 = overwrite ? 0.0f : c3[j] * s3;
        int64_t k = 0;
        do {
            const float bk = b[k * TW + j];
            x0 += a0[k * a_col] * bk;
            x1 += a1[k * a_col] * bk;
            x2 += a2[k * a_col] * bk;
            x3 += a3[k * a_col] * bk;
        } while (++k < depth);
        c0[j] = x0, c1[j] = x1, c2[j] = x2, c3[j] = x3;
    }
}

/* One row of C, for the rows left over. */
SB_INLINE void gemm_row(int64_t cols, int64_t depth, const float *ar, int64_t a_col, const float *b, float *cr,
                        int overwrite, const float *s) {
    const float sr = overwrite ? 0.0f : s ? s[0] : 1.0f;
#pragma omp simd
    for (int64_t j = 0; j < cols; j++) {
        float x = overwrite ? 0.0f : cr[j] * sr;
        int64_t k = 0;
        do x += ar[k * a_col] * b[k * TW + j];
        while (++k < depth);
        cr[j] = x;
    }
}

/* C (rows x cols, row stride ldc) = s C + A B, where s is 0 (overwrite), c_scale[r] or 1, A[r][k] is
 * a[r * a_row + k * a_col] (a tile, its transpose or rows of a tensor) and B (depth x cols) is a stack tile.
 * a_col must be a constant at each call: a run-time one makes GCC version the loop for a_col == 1 and leave the
 * other version scalar. */
SB_INLINE void tile_gemm(int64_t rows, int64_t cols, int64_t depth, const float *a, int64_t a_row, int64_t a_col,
                         const float *b, float *c, int64_t ldc, int overwrite, const float *c_scale) {
    int64_t r = 0;
    for (; r + 4 <= rows; r += 4) {
        const float *s = c_scale ? c_scale + r : NULL;
        if (cols == TW)
            gemm_rows4_full(depth, a + r * a_row, a_row, a_col, b, c + r * ldc, ldc, overwrite, s);
        else
            gemm_rows4(cols, depth, a + r * a_row, a_row, a_col, b, c + r * ldc, ldc, overwrite, s);
    }
    for (; r < rows; r++)
        gemm_row(cols, depth, a + r * a_row, a_col, b, c + r * ldc, overwrite, c_scale ? c_scale + r : NULL);
}

/* dst[r][c] = src[r][c] for r < rows, c < cols: a slice of rows of a tensor as a B tile. A plain copy loop would
 * become a memcpy per row, which GCC, knowing cols <= TW, expands as rep movsq: several times slower than a vector
 * loop for 256 bytes. Adding 0 keeps it a vector loop; it only turns -0 into +0, the same in any product. */
SB_INLINE void copy_tile(float *restrict dst, const float *restrict src, int64_t ld, int64_t rows, int64_t cols) {
    for (int64_t r = 0; r < rows; r++)
#pragma omp simd
        for (int64_t c = 0; c < cols; c++) dst[r * TW + c] = src[r * ld + c] + 0.0f;
}

/* C (rows x n) += A B where B is the n columns of the depth rows at src (row stride ld): tile_gemm a slice of TW
 * columns at a time through the tile buf. c_scale as in tile_gemm. */
SB_INLINE void rows_gemm(int64_t rows, int64_t n, int64_t depth, const float *a, int64_t a_row, int64_t a_col,
                         const float *src, int64_t ld, float *buf, float *c, int64_t ldc, const float *c_scale) {
    for (int64_t c0 = 0; c0 < n; c0 += TW) {
        const int64_t w = min64(TW, n - c0);
        copy_tile(buf, src + c0, ld, depth, w);
        tile_gemm(rows, w, depth, a, a_row, a_col, buf, c + c0, ldc, 0, c_scale);
    }
}

/* dst[k][i] = src[i][k] for k < dc, i < n, zero for n <= i < cols: a slice of a Q or dO tile, transposed so that
 * queries are contiguous. Not inlined: in the large callers the loop runs short of registers. */
static __attribute__((noinline)) void transpose_tile(float *restrict dst, const float *restrict src, int64_t ld,
                                                     int64_t n, int64_t cols, int64_t dc) {
    for (int64_t k = 0; k < dc; k++) {
        float *d = dst + k * TW;
        for (int64_t i = 0; i < n; i++) d[i] = src[i * ld + k];
        for (int64_t i = n; i < cols; i++) d[i] = 0.0f;
    }
}

/* st (nk x cols) = K Q^T, unscaled: the nk key rows at krows against the query tile. qt holds the transposed query
 * tile when the head fits in one slice (transposed once by the caller); wider heads are transposed here slice by
 * slice from qrows. */
SB_INLINE void tile_scores(float *st, const float *krows, int64_t nk, float *qt, const float *qrows, int64_t nq,
                           int64_t cols, const attn_args *p) {
    const int64_t d = p->head_dim;
    if (d <= DC) {
        tile_gemm(nk, cols, d, krows, p->kw, 1, qt, st, TW, 1, NULL);
        return;
    }
    for (int64_t c0 = 0; c0 < d; c0 += DC) {
        const int64_t dc = min64(DC, d - c0);
        transpose_tile(qt, qrows + c0, p->qw, nq, cols, dc);
        if (c0 == 0) /* the flag a constant in each call: a run-time one would stop the vectoriser */
            tile_gemm(nk, cols, dc, krows, p->kw, 1, qt, st, TW, 1, NULL);
        else
            tile_gemm(nk, cols, dc, krows + c0, p->kw, 1, qt, st, TW, 0, NULL);
    }
}

/* ---- forward ---- */

/* Queries i0 .. i0+nq of head h in batch b against every key tile at or below the diagonal: Algorithm 1 for one
 * row block. The output rows accumulate in place. */
SB_CLONES static void forward_tile(const attn_args *p, int64_t b, int64_t h, int64_t i0) {
    const int64_t d = p->head_dim, nq = min64(BQ, p->seq - i0), cols = padded(nq);
    const float scale = p->scale; /* locals: loads through p in the loops would be redone after every store */
    const int64_t kw = p->kw, qw = p->qw;
    const float *qrows = p->q + (b * p->seq + i0) * qw + h * d;
    const float *kbase = p->k + b * p->seq * kw + (h / p->group) * d;
    const float *vbase = p->v + b * p->seq * kw + (h / p->group) * d;
    float *orows = p->dst_out + (b * p->seq + i0) * qw + h * d;
    float qt[DC * TW], st[BK * TW], vt[BK * TW];
    float m[BQ], l[BQ], alpha[BQ], mnew[BQ], sum[BQ];

    if (d <= DC) transpose_tile(qt, qrows, qw, nq, cols, d);
    for (int64_t i = 0; i < cols; i++) m[i] = -INFINITY, l[i] = 0.0f;
    for (int64_t i = 0; i < nq; i++)
        for (int64_t c = 0; c < d; c++) orows[i * qw + c] = 0.0f;

    /* Key tiles up to the one holding the last query's own key; within it, key j > query i is masked. */
    for (int64_t j0 = 0; j0 < i0 + nq; j0 += BK) {
        const int64_t nk = min64(BK, i0 + nq - j0);
        tile_scores(st, kbase + j0 * kw, nk, qt, qrows, nq, cols, p); /* S = Q K^T (line 8) */
        for (int64_t i = 0; i < cols; i++) mnew[i] = m[i];
        for (int64_t j = 0; j < nk; j++) {
            float *s = st + j * TW;
            const int first = (int)(j0 + j - i0); /* queries i < first come before key j */
#pragma omp simd
            for (int i = 0; i < (int)cols; i++) {
                const float x = sb_select(i < first, -INFINITY, s[i] * scale);
                s[i] = x;
                mnew[i] = sb_select(x > mnew[i], x, mnew[i]);
            }
        }
        /* Running max and sum (line 9); alpha rescales what was accumulated under the old max. */
#pragma omp simd
        for (int64_t i = 0; i < cols; i++) {
            alpha[i] = sb_expf(m[i] - mnew[i]);
            m[i] = mnew[i];
            sum[i] = 0.0f;
        }
        for (int64_t j = 0; j < nk; j++) {
            float *s = st + j * TW;
#pragma omp simd
            for (int64_t i = 0; i < cols; i++) {
                const float e = sb_expf(s[i] - m[i]);
                s[i] = e;
                sum[i] += e;
            }
        }
        for (int64_t i = 0; i < cols; i++) l[i] = l[i] * alpha[i] + sum[i];
        /* O = diag(alpha) O + P V (line 10); P[i][j] is st[j][i]. */
        rows_gemm(nq, d, nk, st, 1, TW, vbase + j0 * kw, kw, vt, orows, qw, alpha);
    }
    /* O = diag(l)^-1 O and L = m + log l (lines 12-13). */
    for (int64_t i = 0; i < nq; i++) {
        const float inv = 1.0f / l[i];
        float *o = orows + i * qw;
        for (int64_t c = 0; c < d; c++) o[c] *= inv;
        p->dst_lse[(b * p->heads + h) * p->seq + i0 + i] = m[i] + logf(l[i]);
    }
}

int sb_attention_forward(const float *q, const float *k, const float *v, int64_t batch, int64_t seq, int64_t heads,
                         int64_t kv_heads, int64_t head_dim, float scale, float *out, float *lse) {
    SB_CHECK(batch >= 0 && seq >= 0 && heads > 0 && kv_heads > 0 && head_dim > 0 && heads % kv_heads == 0);
    if (batch == 0 || seq == 0) return SB_OK;
    SB_CHECK(q != NULL && k != NULL && v != NULL && out != NULL && lse != NULL);
    const attn_args p = {.q = q, .k = k, .v = v, .dst_out = out, .dst_lse = lse, .seq = seq, .heads = heads,
                         .head_dim = head_dim, .qw = heads * head_dim, .kw = kv_heads * head_dim,
                         .group = heads / kv_heads, .scale = scale};
    const int64_t tiles = (seq + BQ - 1) / BQ, rows = batch * heads, tasks = rows * tiles;
    const int nt = sb_threads_for(batch * heads * seq * seq * head_dim / 4);
    /* Later query tiles see more keys: hand them out first so that the cheap ones fill in at the end. */
#pragma omp parallel for num_threads(nt) schedule(dynamic, 1) if (nt > 1)
    for (int64_t task = 0; task < tasks; task++) {
        const int64_t tile = tiles - 1 - task / rows, bh = task % rows;
        forward_tile(&p, bh / heads, bh % heads, tile * BQ);
    }
    return SB_OK;
}

/* ---- backward ---- */

/* Queries i0 .. i0+nq of head h against every key tile at or below the diagonal: Algorithm 2 with the loops
 * swapped (query tiles outside), which keeps the transposed Q and dO tiles, L and D of the query tile fixed while
 * the key tiles pass. dk, dv and dq accumulate in place. */
SB_INLINE void backward_query_tile(const attn_args *p, int64_t b, int64_t h, int64_t i0, float *qt, float *dot,
                                   float *st, float *dpt, float *buf) {
    const int64_t d = p->head_dim, nq = min64(BQ, p->seq - i0), cols = padded(nq);
    const float scale = p->scale;
    const int64_t kw = p->kw, qw = p->qw, g = h / p->group, qoff = (b * p->seq + i0) * qw + h * d;
    const float *qrows = p->q + qoff, *dorows = p->dout + qoff, *orows = p->out + qoff;
    const float *kbase = p->k + b * p->seq * kw + g * d, *vbase = p->v + b * p->seq * kw + g * d;
    float *dqrows = p->dq + qoff;
    float *dkbase = p->dk + b * p->seq * kw + g * d, *dvbase = p->dv + b * p->seq * kw + g * d;
    float lse[BQ], dsum[BQ];

    if (d <= DC) {
        transpose_tile(qt, qrows, qw, nq, cols, d);
        transpose_tile(dot, dorows, qw, nq, cols, d);
    }
    for (int64_t i = 0; i < cols; i++) lse[i] = 0.0f, dsum[i] = 0.0f;
    for (int64_t i = 0; i < nq; i++) {
        lse[i] = p->lse[(b * p->heads + h) * p->seq + i0 + i];
        /* D_i = dO_i . O_i, summed in the order of the dP products so that a query seeing a single key (P = 1,
         * O = V) gets dS = 0 exactly. Once per query tile: no need to vectorise. */
        float s = 0.0f;
        for (int64_t c = 0; c < d; c++) s += dorows[i * qw + c] * orows[i * qw + c];
        dsum[i] = s;
    }
    for (int64_t j0 = 0; j0 < i0 + nq; j0 += BK) {
        const int64_t nk = min64(BK, i0 + nq - j0);
        const float *krows = kbase + j0 * kw, *vrows = vbase + j0 * kw;
        tile_scores(st, krows, nk, qt, qrows, nq, cols, p);   /* S = Q K^T */
        tile_scores(dpt, vrows, nk, dot, dorows, nq, cols, p); /* dP = dO V^T */
        /* P = exp(S scale - L) and dS = P (dP - D) scale, masked above the diagonal. */
        for (int64_t j = 0; j < nk; j++) {
            float *s = st + j * TW, *dp = dpt + j * TW;
            const int first = (int)(j0 + j - i0); /* queries i < first come before key j */
#pragma omp simd
            for (int i = 0; i < (int)cols; i++) {
                const float e = sb_select(i < first, 0.0f, sb_expf(s[i] * scale - lse[i]));
                s[i] = e;
                dp[i] = e * (dp[i] - dsum[i]) * scale;
            }
        }
        /* dV += P^T dO and dK += dS^T Q: rows are keys, the depth the nq real queries. */
        rows_gemm(nk, d, nq, st, TW, 1, dorows, qw, buf, dvbase + j0 * kw, kw, NULL);
        rows_gemm(nk, d, nq, dpt, TW, 1, qrows, qw, buf, dkbase + j0 * kw, kw, NULL);
        /* dQ += dS K: rows are queries, dS[i][j] is dpt[j][i]. */
        rows_gemm(nq, d, nk, dpt, 1, TW, krows, kw, buf, dqrows, qw, NULL);
    }
}

/* Every gradient of kv head g in batch b: its dk and dv, and dq of the query heads of its group. */
SB_CLONES static void backward_group(const attn_args *p, int64_t b, int64_t g) {
    const int64_t d = p->head_dim;
    float qt[DC * TW], dot[DC * TW], st[BK * TW], dpt[BK * TW], buf[BQ * TW];
    for (int64_t t = 0; t < p->seq; t++) {
        float *dkt = p->dk + (b * p->seq + t) * p->kw + g * d, *dvt = p->dv + (b * p->seq + t) * p->kw + g * d;
        for (int64_t c = 0; c < d; c++) dkt[c] = dvt[c] = 0.0f;
        for (int64_t h = g * p->group; h < (g + 1) * p->group; h++) {
            float *dqt = p->dq + (b * p->seq + t) * p->qw + h * d;
            for (int64_t c = 0; c < d; c++) dqt[c] = 0.0f;
        }
    }
    for (int64_t h = g * p->group; h < (g + 1) * p->group; h++)
        for (int64_t i0 = 0; i0 < p->seq; i0 += BQ) backward_query_tile(p, b, h, i0, qt, dot, st, dpt, buf);
}

int sb_attention_backward(const float *q, const float *k, const float *v, const float *out, const float *lse,
                          const float *dout, int64_t batch, int64_t seq, int64_t heads, int64_t kv_heads,
                          int64_t head_dim, float scale, float *dq, float *dk, float *dv) {
    SB_CHECK(batch >= 0 && seq >= 0 && heads > 0 && kv_heads > 0 && head_dim > 0 && heads % kv_heads == 0);
    if (batch == 0 || seq == 0) return SB_OK;
    SB_CHECK(q != NULL && k != NULL && v != NULL && out != NULL && lse != NULL && dout != NULL);
    SB_CHECK(dq != NULL && dk != NULL && dv != NULL);
    const attn_args p = {.q = q, .k = k, .v = v, .out = out, .lse = lse, .dout = dout, .dq = dq, .dk = dk, .dv = dv,
                         .seq = seq, .heads = heads, .head_dim = head_dim, .qw = heads * head_dim,
                         .kw = kv_heads * head_dim, .group = heads / kv_heads, .scale = scale};
    const int64_t tasks = batch * kv_heads;
    const int nt = sb_threads_for(batch * heads * seq * seq * head_dim / 2);
#pragma omp parallel for num_threads(nt) schedule(dynamic, 1) if (nt > 1)
    for (int64_t task = 0; task < tasks; task++) backward_group(&p, task / kv_heads, task % kv_heads);
    return SB_OK;
}
