/* Causal softmax attention with grouped-query heads, forward and backward, one (batch, kv-head) group per task.
 * The backward recomputes probabilities from the saved log-sum-exp rather than keeping the seq x seq matrix
 * (the FlashAttention recurrence, written plainly). A group owns its dk and dv rows, so no two threads write the
 * same memory. */
#include "sb_internal.h"

#include <math.h>

static float dotf(const float *a, const float *b, int64_t n) {
    float s = 0.0f;
    for (int64_t i = 0; i < n; i++) s += a[i] * b[i];
    return s;
}

int sb_attention_forward(const float *q, const float *k, const float *v, int64_t batch, int64_t seq, int64_t heads,
                         int64_t kv_heads, int64_t head_dim, float scale, float *out, float *lse) {
    SB_CHECK(batch >= 0 && seq >= 0 && heads > 0 && kv_heads > 0 && head_dim > 0 && heads % kv_heads == 0);
    if (batch == 0 || seq == 0) return SB_OK;
    SB_CHECK(q != NULL && k != NULL && v != NULL && out != NULL && lse != NULL);
    const int64_t qw = heads * head_dim, kw = kv_heads * head_dim, group = heads / kv_heads;
    const int64_t tasks = batch * heads;
    const int nt = sb_threads_for(batch * heads * seq * seq * head_dim / 4);
#pragma omp parallel for num_threads(nt) schedule(dynamic, 1) if (nt > 1)
    for (int64_t task = 0; task < tasks; task++) {
        const int64_t b = task / heads, h = task % heads, g = h / group;
        for (int64_t t = 0; t < seq; t++) {
            const float *qt = q + (b * seq + t) * qw + h * head_dim;
            float *o = out + (b * seq + t) * qw + h * head_dim;
            float m = -INFINITY;
            for (int64_t u = 0; u <= t; u++) {
                const float s = dotf(qt, k + (b * seq + u) * kw + g * head_dim, head_dim) * scale;
                m = s > m ? s : m;
            }
            for (int64_t j = 0; j < head_dim; j++) o[j] = 0.0f;
            double l = 0.0;
            for (int64_t u = 0; u <= t; u++) {
                const float s = dotf(qt, k + (b * seq + u) * kw + g * head_dim, head_dim) * scale;
                const float p = expf(s - m);
                l += p;
                const float *vu = v + (b * seq + u) * kw + g * head_dim;
                for (int64_t j = 0; j < head_dim; j++) o[j] += p * vu[j];
            }
            const float inv = (float)(1.0 / l);
            for (int64_t j = 0; j < head_dim; j++) o[j] *= inv;
            lse[(b * heads + h) * seq + t] = m + (float)log(l);
        }
    }
    return SB_OK;
}

int sb_attention_backward(const float *q, const float *k, const float *v, const float *out, const float *lse,
                          const float *dout, int64_t batch, int64_t seq, int64_t heads, int64_t kv_heads,
                          int64_t head_dim, float scale, float *dq, float *dk, float *dv) {
    SB_CHECK(batch >= 0 && seq >= 0 && heads > 0 && kv_heads > 0 && head_dim > 0 && heads % kv_heads == 0);
    if (batch == 0 || seq == 0) return SB_OK;
    SB_CHECK(q != NULL && k != NULL && v != NULL && out != NULL && lse != NULL && dout != NULL);
    SB_CHECK(dq != NULL && dk != NULL && dv != NULL);
    const int64_t qw = heads * head_dim, kw = kv_heads * head_dim, group = heads / kv_heads;
    const int64_t tasks = batch * kv_heads;
    const int nt = sb_threads_for(batch * heads * seq * seq * head_dim / 2);
#pragma omp parallel for num_threads(nt) schedule(dynamic, 1) if (nt > 1)
    for (int64_t task = 0; task < tasks; task++) {
        const int64_t b = task / kv_heads, g = task % kv_heads;
        for (int64_t u = 0; u < seq; u++) {
            float *dku = dk + (b * seq + u) * kw + g * head_dim, *dvu = dv + (b * seq + u) * kw + g * head_dim;
            for (int64_t j = 0; j < head_dim; j++) dku[j] = dvu[j] = 0.0f;
        }
        for (int64_t h = g * group; h < (g + 1) * group; h++) {
            for (int64_t t = 0; t < seq; t++) {
                const int64_t row = (b * seq + t) * qw + h * head_dim;
                const float *qt = q + row, *ot = out + row, *dot_ = dout + row;
                float *dqt = dq + row;
                const float l = lse[(b * heads + h) * seq + t];
                const float dsum = dotf(dot_, ot, head_dim); /* D_t = dout_t · out_t */
                for (int64_t j = 0; j < head_dim; j++) dqt[j] = 0.0f;
                for (int64_t u = 0; u <= t; u++) {
                    const float *ku = k + (b * seq + u) * kw + g * head_dim;
                    const float *vu = v + (b * seq + u) * kw + g * head_dim;
                    float *dku = dk + (b * seq + u) * kw + g * head_dim, *dvu = dv + (b * seq + u) * kw + g * head_dim;
                    const float p = expf(dotf(qt, ku, head_dim) * scale - l);
                    const float ds = p * (dotf(dot_, vu, head_dim) - dsum) * scale;
                    for (int64_t j = 0; j < head_dim; j++) {
                        dvu[j] += p * dot_[j];
                        dqt[j] += ds * ku[j];
                        dku[j] += ds * qt[j];
                    }
                }
            }
        }
    }
    return SB_OK;
}
