/* Softmax cross-entropy forward and backward in one pass over each row: the loss and log-sum-exp of
 * sb_cross_entropy_forward and the gradient of sb_cross_entropy_backward while the row is in cache, for a loss that
 * forms its gradient as it goes (a chunk of logits at a time, never all of them). The exponentials are sb_expf's,
 * which vectorise: the two separate kernels call libm's exp and expf one element at a time and spend nearly all
 * their time there. Results agree with theirs within a few ulp (the sum of exponentials is still in double). */
#include "sb_internal.h"
#include "sb_math.h"

#include <math.h>

static int targets_valid(const int32_t *t, int64_t rows, int64_t vocab, int32_t ignore) {
    for (int64_t i = 0; i < rows; i++) {
        if (t[i] != ignore && (t[i] < 0 || t[i] >= vocab)) return 0;
    }
    return 1;
}

/* The max (NaNs skipped, as model_ops.c's), then the sum of exp in double. */
SB_CLONES static float row_lse(const float *z, int64_t v) {
    float m = -INFINITY;
    for (int64_t j = 0; j < v; j++) m = sb_select(z[j] > m, z[j], m);
    double s = 0.0;
#pragma omp simd reduction(+ : s)
    for (int64_t j = 0; j < v; j++) s += (double)sb_expf(z[j] - m);
    return m + (float)log(s);
}

SB_CLONES static void row_grad(const float *z, int64_t v, float l, float scale, float *d) {
#pragma omp simd
    for (int64_t j = 0; j < v; j++) d[j] = scale * sb_expf(z[j] - l);
}

int sb_cross_entropy_fused(const float *logits, const int32_t *targets, int64_t rows, int64_t vocab,
                           int32_t ignore_index, float scale, float *loss, float *lse, float *dlogits) {
    SB_CHECK(rows >= 0 && vocab > 0);
    if (rows == 0) return SB_OK;
    SB_CHECK(logits != NULL && targets != NULL && loss != NULL && lse != NULL && dlogits != NULL);
    if (!targets_valid(targets, rows, vocab, ignore_index)) return SB_ERR_INDEX;
    /* whole rows per thread, split evenly: a row is thousands of elements, no cache line is shared */
    const int nt = sb_threads_for(rows * vocab);
#pragma omp parallel for num_threads(nt) schedule(static) if (nt > 1)
    for (int64_t i = 0; i < rows; i++) {
        const float *z = logits + i * vocab;
        float *d = dlogits + i * vocab;
        const float l = row_lse(z, vocab);
        lse[i] = l;
        const int32_t t = targets[i];
        if (t == ignore_index) {
            loss[i] = 0.0f;
            for (int64_t j = 0; j < vocab; j++) d[j] = 0.0f;
            continue;
        }
        loss[i] = l - z[t]; /* before d, which may be z, is written */
        row_grad(z, vocab, l, scale, d);
        d[t] -= scale;
    }
    return SB_OK;
}
