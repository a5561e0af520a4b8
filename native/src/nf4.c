/* NF4 quantisation (Dettmers et al. 2023, QLoRA §3): 16 values at the quantiles of N(0, 1), rescaled to [-1, 1],
 * one absmax per block. The value table is QLoRA's (bitsandbytes' NF4 code); the nearest value is found against
 * the midpoints between neighbours, as bitsandbytes' decision tree does. */
#include "sb_internal.h"

#include <math.h>

static const float NF4[16] = {
    -1.0f, -0.6961928009986877f, -0.5250730514526367f, -0.39491748809814453f, -0.28444138169288635f,
    -0.18477343022823334f, -0.09105003625154495f, 0.0f, 0.07958029955625534f, 0.16093020141124725f,
    0.24611230194568634f, 0.33791524171829224f, 0.44070982933044434f, 0.5626170039176941f, 0.7229568362236023f, 1.0f};

static inline uint8_t nearest(float v) {
    uint8_t q = 0;
    for (int k = 0; k < 15; k++) q += v > 0.5f * (NF4[k] + NF4[k + 1]); /* count midpoints below v */
    return q;
}

int sb_nf4_quantize(const float *x, int64_t n, int64_t block, uint8_t *packed, float *absmax) {
    SB_CHECK(n >= 0 && block > 0 && block % 2 == 0);
    if (n == 0) return SB_OK;
    SB_CHECK(x != NULL && packed != NULL && absmax != NULL);
    const int64_t blocks = (n + block - 1) / block;
    const int nt = sb_threads_for(n);
#pragma omp parallel for num_threads(nt) schedule(static) if (nt > 1)
    for (int64_t b = 0; b < blocks; b++) {
        const int64_t lo = b * block, hi = lo + block < n ? lo + block : n;
        float m = 0.0f;
        for (int64_t i = lo; i < hi; i++) m = fabsf(x[i]) > m ? fabsf(x[i]) : m;
        absmax[b] = m;
        const float inv = m > 0.0f ? 1.0f / m : 0.0f;
        for (int64_t i = lo; i < hi; i += 2) {
            const uint8_t hiq = nearest(x[i] * inv);
            const uint8_t loq = i + 1 < hi ? nearest(x[i + 1] * inv) : 7; /* pad with the code of 0 */
            packed[i / 2] = (uint8_t)(hiq << 4 | loq);
        }
    }
    return SB_OK;
}

/* Element by element, for the ragged ends of a range. */
static void dequantize_slow(const uint8_t *packed, const float *absmax, int64_t start, int64_t count, int64_t block,
                            float *out) {
    for (int64_t i = 0; i < count; i++) {
        const int64_t e = start + i;
        const uint8_t byte = packed[e >> 1];
        const uint8_t q = (e & 1) ? (byte & 0x0f) : (byte >> 4);
        out[i] = NF4[q] * absmax[e / block];
    }
}

/* Whole blocks: one scale per block, two codes per byte, no division per element. */
SB_CLONES static void dequantize_blocks(const uint8_t *packed, const float *absmax, int64_t first_block,
                                        int64_t blocks, int64_t block, float *out) {
    for (int64_t b = 0; b < blocks; b++) {
        const float am = absmax[first_block + b];
        const uint8_t *p = packed + (first_block + b) * (block / 2);
        float *o = out + b * block;
        for (int64_t j = 0; j < block / 2; j++) {
            o[2 * j] = NF4[p[j] >> 4] * am;
            o[2 * j + 1] = NF4[p[j] & 0x0f] * am;
        }
    }
}

/* Splits [start, start + count) into a ragged head, whole blocks and a ragged tail. */
static void dequantize_range(const uint8_t *packed, const float *absmax, int64_t start, int64_t count, int64_t block,
                             float *out) {
    int64_t head = (block - start % block) % block;
    if (head > count) head = count;
    dequantize_slow(packed, absmax, start, head, block, out);
    const int64_t first = (start + head) / block, blocks = (count - head) / block;
    dequantize_blocks(packed, absmax, first, blocks, block, out + head);
    const int64_t done = head + blocks * block;
    dequantize_slow(packed, absmax, start + done, count - done, block, out + done);
}

int sb_nf4_dequantize(const uint8_t *packed, const float *absmax, int64_t start, int64_t count, int64_t block,
                      float *out) {
    SB_CHECK(start >= 0 && count >= 0 && block > 0 && block % 2 == 0);
    if (count == 0) return SB_OK;
    SB_CHECK(packed != NULL && absmax != NULL && out != NULL);
    /* chunks of whole blocks, so that every thread but the ends takes the fast path */
    const int64_t blocks = (count + block - 1) / block;
    SB_PARALLEL_CHUNKS(blocks, count, lo, hi, {
        const int64_t a = lo * block, z = hi * block < count ? hi * block : count;
        dequantize_range(packed, absmax, start + a, z - a, block, out + a);
    });
    return SB_OK;
}
