/* Row-wise layers of a LLaMA block: RMSNorm, rotary embeddings, the SwiGLU gate, softmax cross-entropy. */
#include "sb_internal.h"
#include "sb_math.h"

#include <math.h>

/* ---------------------------------------------------------------- RMSNorm */

SB_CLONES static void rmsnorm_row(const float *x, const float *w, int64_t n, float eps, float *y, float *rstd) {
    double ss = 0.0;
#pragma omp simd reduction(+ : ss)
    for (int64_t j = 0; j < n; j++) ss += (double)x[j] * (double)x[j];
    const float r = (float)(1.0 / sqrt(ss / (double)n + (double)eps));
    *rstd = r;
    for (int64_t j = 0; j < n; j++) y[j] = w[j] * (x[j] * r);
}

int sb_rmsnorm_forward(const float *x, const float *w, int64_t rows, int64_t n, float eps, float *y, float *rstd) {
    SB_CHECK(rows >= 0 && n > 0 && eps >= 0.0f);
    if (rows == 0) return SB_OK;
    SB_CHECK(x != NULL && w != NULL && y != NULL && rstd != NULL);
    SB_PARALLEL_CHUNKS(rows, rows * n, lo, hi, {
        for (int64_t i = lo; i < hi; i++) rmsnorm_row(x + i * n, w, n, eps, y + i * n, rstd + i);
    });
    return SB_OK;
}

SB_CLONES static void rmsnorm_dx_row(const float *x, const float *w, float rstd, const float *dy, int64_t n,
                                     float *dx) {
    double dot = 0.0;
#pragma omp simd reduction(+ : dot)
    for (int64_t j = 0; j < n; j++) dot += (double)(dy[j] * w[j]) * (double)(x[j] * rstd);
    const float mean = (float)(dot / (double)n);
    for (int64_t j = 0; j < n; j++) dx[j] = rstd * (dy[j] * w[j] - (x[j] * rstd) * mean);
}

#define DW_BLOCK 512

int sb_rmsnorm_backward(const float *x, const float *w, const float *rstd, const float *dy, int64_t rows, int64_t n,
                        float *dx, float *dw) {
    SB_CHECK(rows >= 0 && n > 0);
    SB_CHECK(x != NULL && w != NULL && rstd != NULL && dy != NULL);
    if (dx != NULL && rows > 0) {
        SB_PARALLEL_CHUNKS(rows, rows * n, lo, hi, {
            for (int64_t i = lo; i < hi; i++) rmsnorm_dx_row(x + i * n, w, rstd[i], dy + i * n, n, dx + i * n);
        });
    }
    if (dw != NULL) {
        /* column blocks with a double accumulator on the stack: no reduction across threads needed */
        const int64_t blocks = (n + DW_BLOCK - 1) / DW_BLOCK;
        const int nt = sb_threads_for(rows * n);
#pragma omp parallel for num_threads(nt) schedule(static) if (nt > 1)
        for (int64_t b = 0; b < blocks; b++) {
            double acc[DW_BLOCK];
            const int64_t j0 = b * DW_BLOCK, w_ = (j0 + DW_BLOCK < n ? j0 + DW_BLOCK : n) - j0;
            for (int64_t j = 0; j < w_; j++) acc[j] = 0.0;
            for (int64_t i = 0; i < rows; i++) {
                const float r = rstd[i];
                const float *xr = x + i * n + j0, *dyr = dy + i * n + j0;
                for (int64_t j = 0; j < w_; j++) acc[j] += (double)dyr[j] * (double)(xr[j] * r);
            }
            for (int64_t j = 0; j < w_; j++) dw[j0 + j] = (float)acc[j];
        }
    }
    return SB_OK;
}

/* ---------------------------------------------------------------- rotary embeddings */

int sb_rope(const float *x, int64_t rows, int64_t heads, int64_t head_dim, const int32_t *positions,
            const float *cos_table, const float *sin_table, int64_t max_pos, float sign, float *out) {
    SB_CHECK(rows >= 0 && heads > 0 && head_dim > 0 && head_dim % 2 == 0 && max_pos > 0);
    if (rows == 0) return SB_OK;
    SB_CHECK(x != NULL && positions != NULL && cos_table != NULL && sin_table != NULL && out != NULL);
    if (!sb_indices_in_range(positions, rows, max_pos)) return SB_ERR_INDEX;
    const int64_t h = head_dim / 2, width = heads * head_dim;
    SB_PARALLEL_CHUNKS(rows, rows * width, lo, hi, {
        for (int64_t i = lo; i < hi; i++) {
            const float *c = cos_table + (int64_t)positions[i] * h, *s = sin_table + (int64_t)positions[i] * h;
            for (int64_t hd = 0; hd < heads; hd++) {
                const float *xi = x + i * width + hd * head_dim;
                float *o = out + i * width + hd * head_dim;
                for (int64_t j = 0; j < h; j++) {
                    const float a = xi[j], b = xi[j + h], sj = s[j] * sign;
                    o[j] = a * c[j] - b * sj;
                    o[j + h] = b * c[j] + a * sj;
                }
            }
        }
    });
    return SB_OK;
}

/* ---------------------------------------------------------------- SwiGLU */

/* The exponentials are sb_expf's (vectorised, within a few ulp of libm's expf, whose scalar calls took a third of
 * these kernels' time); the loops run in vector lanes on every target of SB_CLONES. */
SB_CLONES static void silu_mul_forward_range(const float *restrict g, const float *restrict u, float *restrict out,
                                             int64_t lo, int64_t hi) {
#pragma omp simd
    for (int64_t i = lo; i < hi; i++) out[i] = (g[i] / (1.0f + sb_expf(-g[i]))) * u[i];
}

int sb_silu_mul_forward(const float *g, const float *u, int64_t n, float *out) {
    SB_CHECK(n >= 0);
    if (n == 0) return SB_OK;
    SB_CHECK(g != NULL && u != NULL && out != NULL);
    SB_PARALLEL_CHUNKS(n, n * 8, lo, hi, { silu_mul_forward_range(g, u, out, lo, hi); });
    return SB_OK;
}

/* du = dout * silu(g) and dg = dout * u * silu'(g) for i in [lo, hi); either output may be NULL (the branch is the
 * same for every element, so each of the three versions is a plain vector loop). */
SB_CLONES static void silu_mul_backward_range(const float *restrict g, const float *restrict u,
                                              const float *restrict dout, float *restrict dg, float *restrict du,
                                              int64_t lo, int64_t hi) {
    if (du != NULL && dg != NULL) {
#pragma omp simd
        for (int64_t i = lo; i < hi; i++) {
            const float sig = 1.0f / (1.0f + sb_expf(-g[i]));
            du[i] = dout[i] * (g[i] * sig);
            dg[i] = dout[i] * u[i] * (sig * (1.0f + g[i] * (1.0f - sig)));
        }
    } else if (du != NULL) {
#pragma omp simd
        for (int64_t i = lo; i < hi; i++) du[i] = dout[i] * (g[i] * (1.0f / (1.0f + sb_expf(-g[i]))));
    } else if (dg != NULL) {
#pragma omp simd
        for (int64_t i = lo; i < hi; i++) {
            const float sig = 1.0f / (1.0f + sb_expf(-g[i]));
            dg[i] = dout[i] * u[i] * (sig * (1.0f + g[i] * (1.0f - sig)));
        }
    }
}

int sb_silu_mul_backward(const float *g, const float *u, const float *dout, int64_t n, float *dg, float *du) {
    SB_CHECK(n >= 0);
    if (n == 0) return SB_OK;
    SB_CHECK(g != NULL && u != NULL && dout != NULL);
    SB_PARALLEL_CHUNKS(n, n * 8, lo, hi, { silu_mul_backward_range(g, u, dout, dg, du, lo, hi); });
    return SB_OK;
}

/* ---------------------------------------------------------------- cross-entropy */

static int targets_valid(const int32_t *t, int64_t rows, int64_t vocab, int32_t ignore) {
    for (int64_t i = 0; i < rows; i++) {
        if (t[i] != ignore && (t[i] < 0 || t[i] >= vocab)) return 0;
    }
    return 1;
}

SB_CLONES static float row_lse(const float *z, int64_t v) {
    float m = -INFINITY;
    for (int64_t j = 0; j < v; j++) m = z[j] > m ? z[j] : m;
    double s = 0.0;
    for (int64_t j = 0; j < v; j++) s += exp((double)(z[j] - m));
    return m + (float)log(s);
}

int sb_cross_entropy_forward(const float *logits, const int32_t *targets, int64_t rows, int64_t vocab,
                             int32_t ignore_index, float *loss, float *lse) {
    SB_CHECK(rows >= 0 && vocab > 0);
    if (rows == 0) return SB_OK;
    SB_CHECK(logits != NULL && targets != NULL && loss != NULL && lse != NULL);
    if (!targets_valid(targets, rows, vocab, ignore_index)) return SB_ERR_INDEX;
    SB_PARALLEL_CHUNKS(rows, rows * vocab, lo, hi, {
        for (int64_t i = lo; i < hi; i++) {
            const float *z = logits + i * vocab;
            lse[i] = row_lse(z, vocab);
            loss[i] = targets[i] == ignore_index ? 0.0f : lse[i] - z[targets[i]];
        }
    });
    return SB_OK;
}

int sb_cross_entropy_backward(const float *logits, const int32_t *targets, const float *lse, int64_t rows,
                              int64_t vocab, int32_t ignore_index, float scale, float *dlogits) {
    SB_CHECK(rows >= 0 && vocab > 0);
    if (rows == 0) return SB_OK;
    SB_CHECK(logits != NULL && targets != NULL && lse != NULL && dlogits != NULL);
    if (!targets_valid(targets, rows, vocab, ignore_index)) return SB_ERR_INDEX;
    SB_PARALLEL_CHUNKS(rows, rows * vocab, lo, hi, {
        for (int64_t i = lo; i < hi; i++) {
            const float *z = logits + i * vocab;
            float *d = dlogits + i * vocab;
            if (targets[i] == ignore_index) {
                for (int64_t j = 0; j < vocab; j++) d[j] = 0.0f;
                continue;
            }
            for (int64_t j = 0; j < vocab; j++) d[j] = scale * expf(z[j] - lse[i]);
            d[targets[i]] -= scale;
        }
    });
    return SB_OK;
}
