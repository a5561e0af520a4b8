/* Fused AdamW: one pass over parameter, gradient and both moments (torch.optim.AdamW, single-tensor path). */
#include "sb_internal.h"

#include <math.h>

SB_CLONES static void adamw_chunk(float *p, const float *g, float *m, float *v, float beta1, float beta2, float eps,
                                  float decay, float step_size, float bc2_sqrt, int64_t lo, int64_t hi) {
    const float w1 = 1.0f - beta1, w2 = 1.0f - beta2;
    for (int64_t i = lo; i < hi; i++) {
        const float gi = g[i];
        const float mi = m[i] + w1 * (gi - m[i]); /* torch: exp_avg.lerp_(grad, 1 - beta1) */
        const float vi = v[i] * beta2 + w2 * gi * gi;
        const float denom = sqrtf(vi) / bc2_sqrt + eps;
        m[i] = mi;
        v[i] = vi;
        p[i] = p[i] * decay + (-step_size) * (mi / denom);
    }
}

int sb_adamw_step(float *p, const float *g, float *m, float *v, int64_t n, float beta1, float beta2, float eps,
                  float decay, float step_size, float bias_correction2_sqrt) {
    SB_CHECK(n >= 0);
    if (n == 0) return SB_OK;
    SB_CHECK(p != NULL && g != NULL && m != NULL && v != NULL);
    SB_CHECK(bias_correction2_sqrt > 0.0f);
    SB_PARALLEL_CHUNKS(n, n * 8, lo, hi,
                       adamw_chunk(p, g, m, v, beta1, beta2, eps, decay, step_size, bias_correction2_sqrt, lo, hi));
    return SB_OK;
}
