/* Attention of a few new tokens per sequence against a key/value cache: the decoding step of generation (one new
 * token) and a chunked prefill (several). A task takes one new token of one sequence and the query heads (up to HC)
 * that share a kv head, and walks that head's cached keys in blocks of CB with a running softmax (max and sum) per
 * query head, accumulating into the heads' own output rows: nothing of the size of the cache is allocated, a step
 * reads each cached key and value once per task, and its cost grows with the cache only through that one pass.
 *
 * Within a block the keys are transposed onto the stack (a slice of KC columns at a time), so that the scores of
 * every head of the group are plain vector multiply-adds over the block's keys (no horizontal sum per key), and the
 * exponentials are sb_expf over the block, which vectorises. Each block's keys and values stay in L1 while the
 * heads of the group use them.
 *
 * Parallelism: one task per (sequence, new token, kv head, chunk of its query heads); each writes its own output
 * rows. */
#include "sb_internal.h"
#include "sb_math.h"

#include <math.h>

enum {
    CB = 64, /* keys per block */
    KC = 64, /* head_dim columns of the transposed key slice */
    HC = 8,  /* query heads of a group handled together */
};

/* Output rows o + hh*d (hh < nh) of the query rows q + hh*d against the keys lo..hi (inclusive) of one kv head,
 * whose rows start at kc and vc with a stride of kw floats. */
SB_CLONES static void cached_group(const float *q, int64_t nh, const float *kc, const float *vc, int64_t kw,
                                   int64_t lo, int64_t hi, int64_t d, float scale, float *o) {
    float kt[KC * CB];
    float s[HC * CB];
    float m[HC], l[HC];
    for (int64_t hh = 0; hh < nh; hh++) {
        m[hh] = -INFINITY;
        l[hh] = 0.0f;
        for (int64_t c = 0; c < d; c++) o[hh * d + c] = 0.0f;
    }
    for (int64_t j0 = lo; j0 <= hi; j0 += CB) {
        const int64_t n = hi - j0 + 1 < CB ? hi - j0 + 1 : CB;
        for (int64_t hh = 0; hh < nh; hh++)
#pragma omp simd
            for (int64_t i = 0; i < CB; i++) s[hh * CB + i] = 0.0f;
        for (int64_t c0 = 0; c0 < d; c0 += KC) {
            const int64_t dc = d - c0 < KC ? d - c0 : KC;
            for (int64_t i = 0; i < n; i++) {
                const float *kr = kc + (j0 + i) * kw + c0;
                for (int64_t c = 0; c < dc; c++) kt[c * CB + i] = kr[c];
            }
            for (int64_t c = 0; c < dc; c++) /* keys past the block's end: zeros, never used */
                for (int64_t i = n; i < CB; i++) kt[c * CB + i] = 0.0f;
            for (int64_t hh = 0; hh < nh; hh++) {
                const float *qh = q + hh * d + c0;
                float *sh = s + hh * CB;
                for (int64_t c = 0; c < dc; c++) {
                    const float qc = qh[c];
#pragma omp simd
                    for (int64_t i = 0; i < CB; i++) sh[i] += qc * kt[c * CB + i];
                }
            }
        }
        for (int64_t hh = 0; hh < nh; hh++) {
            float *sh = s + hh * CB, *oh = o + hh * d;
            float bm = m[hh];
#pragma omp simd reduction(max : bm)
            for (int64_t i = 0; i < n; i++) {
                sh[i] *= scale;
                bm = fmaxf(bm, sh[i]);
            }
            /* the first block rescales nothing: e^-inf = 0 times the zeros above */
            const float corr = sb_expf(m[hh] - bm);
            float sum = 0.0f;
#pragma omp simd reduction(+ : sum)
            for (int64_t i = 0; i < n; i++) {
                sh[i] = sb_expf(sh[i] - bm);
                sum += sh[i];
            }
            l[hh] = l[hh] * corr + sum;
#pragma omp simd
            for (int64_t c = 0; c < d; c++) oh[c] *= corr;
            for (int64_t i = 0; i < n; i++) {
                const float p = sh[i], *vr = vc + (j0 + i) * kw;
#pragma omp simd
                for (int64_t c = 0; c < d; c++) oh[c] += p * vr[c];
            }
            m[hh] = bm;
        }
    }
    for (int64_t hh = 0; hh < nh; hh++) {
        const float inv = 1.0f / l[hh];
#pragma omp simd
        for (int64_t c = 0; c < d; c++) o[hh * d + c] *= inv;
    }
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
    const int64_t chunks = (group + HC - 1) / HC, tasks = batch * new_tokens * kv_heads * chunks;
    int64_t keys = 0;
    for (int64_t b = 0; b < batch; b++) keys += past[b] + new_tokens;
    const int nt = sb_threads_for(keys * new_tokens * heads * head_dim);
#pragma omp parallel for num_threads(nt) schedule(dynamic, 1) if (nt > 1)
    for (int64_t task = 0; task < tasks; task++) {
        const int64_t chunk = task % chunks, rest = task / chunks, g = rest % kv_heads, row = rest / kv_heads;
        const int64_t b = row / new_tokens, t = row % new_tokens;
        const int64_t pos = past[b] + t;
        const int64_t lo = window > 0 && pos - window + 1 > 0 ? pos - window + 1 : 0;
        const int64_t h0 = g * group + chunk * HC, nh = group - chunk * HC < HC ? group - chunk * HC : HC;
        const int64_t off = b * max_len * kw + g * head_dim;
        cached_group(q + row * qw + h0 * head_dim, nh, k_cache + off, v_cache + off, kw, lo, pos, head_dim, scale,
                     out + row * qw + h0 * head_dim);
    }
    return SB_OK;
}
