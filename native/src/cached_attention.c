/* Attention of a few new tokens per sequence against a key/value cache: the decoding step of generation (one new
 * token) and a chunked prefill (several). Each query row reads its sequence's cached keys in blocks of CB with a
 * running softmax (max and sum), accumulating into its own output row, so that nothing of the size of the cache is
 * ever allocated and the work per row is one pass over the keys it sees: the cost of a decoding step grows with
 * the cache length only through that pass, never with a re-run of earlier tokens.
 *
 * Parallelism: one task per (sequence, new token, query head); each writes its own output row. A decoding step of
 * one sequence has only `heads` tasks, which is enough for a few cores; the caches of a kv head stay in cache
 * memory across the query heads of its group that the same thread often takes next. */
#include "sb_internal.h"

#include <math.h>

enum { CB = 64 }; /* keys per block: the scores of a block stay on the stack */

/* Output row o (d floats) of query row qr against the keys lo..hi (inclusive) of one kv head, whose rows start at
 * kc and vc with a stride of kw floats. */
SB_CLONES static void cached_row(const float *qr, const float *kc, const float *vc, int64_t kw, int64_t lo,
                                 int64_t hi, int64_t d, float scale, float *o) {
    float s[CB];
    float m = -INFINITY, l = 0.0f;
    for (int64_t c = 0; c < d; c++) o[c] = 0.0f;
    for (int64_t j0 = lo; j0 <= hi; j0 += CB) {
        const int64_t n = hi - j0 + 1 < CB ? hi - j0 + 1 : CB;
        float bm = m;
        for (int64_t i = 0; i < n; i++) {
            const float *kr = kc + (j0 + i) * kw;
            float acc = 0.0f;
#pragma omp simd reduction(+ : acc)
            for (int64_t c = 0; c < d; c++) acc += qr[c] * kr[c];
            s[i] = acc * scale;
            bm = fmaxf(bm, s[i]);
        }
        /* the first block rescales nothing: exp(-inf) = 0 times the zeros above */
        const float corr = expf(m - bm);
        l *= corr;
#pragma omp simd
        for (int64_t c = 0; c < d; c++) o[c] *= corr;
        for (int64_t i = 0; i < n; i++) {
            const float p = expf(s[i] - bm);
            const float *vr = vc + (j0 + i) * kw;
            l += p;
#pragma omp simd
            for (int64_t c = 0; c < d; c++) o[c] += p * vr[c];
        }
        m = bm;
    }
    const float inv = 1.0f / l;
#pragma omp simd
    for (int64_t c = 0; c < d; c++) o[c] *= inv;
}

int sb_cached_attention(const float *q, const float *k_cache, const float *v_cache, const int32_t *past,
                        int64_t batch, int64_t new_tokens, int64_t max_len, int64_t heads, int64_t kv_heads,
                        int64_t head_dim, float scale, int64_t window, float *out) {
    SB_CHECK(batch >= 0 && new_tokens >= 0 && max_len >= 0 && heads > 0 && kv_heads > 0 && head_dim > 0 &&
             heads % kv_heads == 0 && window >= 0);
    if (batch == 0 || new_tokens == 0) return SB_OK;
    SB_CHECK(q != NULL && k_cache != NULL && v_cache != NULL && past != NULL && out != NULL);
    SB_CHECK(new_tokens <= max_len);
    /* every new token must have its slot in the cache: past[b] + new_tokens <= max_len */
    if (!sb_indices_in_range(past, batch, max_len - new_tokens + 1)) return SB_ERR_INDEX;
    const int64_t qw = heads * head_dim, kw = kv_heads * head_dim, group = heads / kv_heads;
    const int64_t tasks = batch * new_tokens * heads;
    int64_t keys = 0;
    for (int64_t b = 0; b < batch; b++) keys += past[b] + new_tokens;
    const int nt = sb_threads_for(keys * heads * head_dim);
#pragma omp parallel for num_threads(nt) schedule(dynamic, 1) if (nt > 1)
    for (int64_t task = 0; task < tasks; task++) {
        const int64_t h = task % heads, row = task / heads, b = row / new_tokens, t = row % new_tokens;
        const int64_t pos = past[b] + t;
        const int64_t lo = window > 0 && pos - window + 1 > 0 ? pos - window + 1 : 0;
        const int64_t off = b * max_len * kw + (h / group) * head_dim;
        cached_row(q + row * qw + h * head_dim, k_cache + off, v_cache + off, kw, lo, pos, head_dim, scale,
                   out + row * qw + h * head_dim);
    }
    return SB_OK;
}
