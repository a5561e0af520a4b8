// Causal softmax attention with grouped-query heads (native/src/attention.c), written plainly: correctness first.
// q, out, dout: (batch*seq) x (heads*head_dim); k, v: (batch*seq) x (kv_heads*head_dim); query head h reads kv head
// h / (heads/kv_heads); lse: batch x heads x seq.
//
// Forward: one warp per query row (b, h, t). The lanes split head_dim; the scores of the keys u <= t are computed
// twice as in the C code (the max first, then exp(s - m) with the output accumulated in float and the normaliser l
// in double), and lse = m + log(l).
// Backward, recomputing the probabilities from lse as the C code does, in two race-free kernels:
//  - dq: one warp per query row, over the keys u <= t in order;
//  - dk, dv: one warp per key row (b, g, u), over the heads of group g and the queries t >= u in order (the order in
//    which the C code adds into dk[u] and dv[u]).
// Each warp owns the rows it writes (no atomics, deterministic) and overwrites them. The accumulators live in
// shared memory (one head_dim slice per warp and accumulator) or, for head_dim too large for it, in the output rows.
// The dot products are warp tree sums rather than the C code's sequential float sums and expf is CUDA's, so results
// agree with the CPU within float rounding, not bit for bit.
#include "sbc_internal.cuh"

#include <math.h>

using namespace sbc;

namespace {

constexpr int kWarps = 8;                          // warps per block
constexpr size_t kMaxShared = 48 * 1024;           // dynamic shared memory usable without opting in

// Sum over the warp of a[j] * b[j]; every lane gets the same value (the butterfly's additions are commutative).
__device__ __forceinline__ float warp_dot(const float *a, const float *b, int64_t n, int lane) {
    float s = 0.0f;
    for (int64_t j = lane; j < n; j += 32) s = __fadd_rn(s, __fmul_rn(a[j], b[j]));
    return warp_sum(s);
}

struct Dims {
    int64_t batch, seq, heads, kv_heads, head_dim, group, qw, kw;
};

__global__ void attention_forward_kernel(const float *__restrict__ q, const float *__restrict__ k,
                                         const float *__restrict__ v, Dims d, float scale, float *__restrict__ out,
                                         float *__restrict__ lse, bool use_shared) {
    extern __shared__ float shared[];
    const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
    const int64_t total = d.batch * d.heads * d.seq, hd = d.head_dim;
    for (int64_t row = (int64_t)blockIdx.x * kWarps + warp; row < total; row += (int64_t)gridDim.x * kWarps) {
        const int64_t t = row % d.seq, bh = row / d.seq, h = bh % d.heads, b = bh / d.heads, g = h / d.group;
        const float *qt = q + (b * d.seq + t) * d.qw + h * hd;
        const float *kb = k + b * d.seq * d.kw + g * hd, *vb = v + b * d.seq * d.kw + g * hd;
        float *o = out + (b * d.seq + t) * d.qw + h * hd;
        float *acc = use_shared ? shared + (int64_t)warp * hd : o;

        float m = -INFINITY;
        for (int64_t u = 0; u <= t; u++) {
            const float s = __fmul_rn(warp_dot(qt, kb + u * d.kw, hd, lane), scale);
            m = s > m ? s : m;
        }
        for (int64_t j = lane; j < hd; j += 32) acc[j] = 0.0f;
        double l = 0.0;
        for (int64_t u = 0; u <= t; u++) {
            const float s = __fmul_rn(warp_dot(qt, kb + u * d.kw, hd, lane), scale);
            const float p = expf(__fsub_rn(s, m));
            l += (double)p;
            const float *vu = vb + u * d.kw;
            for (int64_t j = lane; j < hd; j += 32) acc[j] = __fadd_rn(acc[j], __fmul_rn(p, vu[j]));
        }
        const float inv = (float)__ddiv_rn(1.0, l);
        for (int64_t j = lane; j < hd; j += 32) o[j] = __fmul_rn(acc[j], inv);
        if (lane == 0) lse[(b * d.heads + h) * d.seq + t] = __fadd_rn(m, (float)log(l));
        __syncwarp();
    }
}

// dq[t] = sum_{u <= t} ds(t, u) * k[u], with p = exp(q.k * scale - lse) and ds = p * (dout.v - dout.out) * scale.
__global__ void attention_dq_kernel(const float *__restrict__ q, const float *__restrict__ k,
                                    const float *__restrict__ v, const float *__restrict__ out,
                                    const float *__restrict__ lse, const float *__restrict__ dout, Dims d,
                                    float scale, float *__restrict__ dq, bool use_shared) {
    extern __shared__ float shared[];
    const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
    const int64_t total = d.batch * d.heads * d.seq, hd = d.head_dim;
    for (int64_t row = (int64_t)blockIdx.x * kWarps + warp; row < total; row += (int64_t)gridDim.x * kWarps) {
        const int64_t t = row % d.seq, bh = row / d.seq, h = bh % d.heads, b = bh / d.heads, g = h / d.group;
        const int64_t at = (b * d.seq + t) * d.qw + h * hd;
        const float *qt = q + at, *ot = out + at, *dot_ = dout + at;
        const float *kb = k + b * d.seq * d.kw + g * hd, *vb = v + b * d.seq * d.kw + g * hd;
        float *dqt = dq + at;
        float *acc = use_shared ? shared + (int64_t)warp * hd : dqt;

        const float l = lse[(b * d.heads + h) * d.seq + t];
        const float dsum = warp_dot(dot_, ot, hd, lane); // D_t = dout_t . out_t
        for (int64_t j = lane; j < hd; j += 32) acc[j] = 0.0f;
        for (int64_t u = 0; u <= t; u++) {
            const float *ku = kb + u * d.kw, *vu = vb + u * d.kw;
            const float p = expf(__fsub_rn(__fmul_rn(warp_dot(qt, ku, hd, lane), scale), l));
            const float ds = __fmul_rn(__fmul_rn(p, __fsub_rn(warp_dot(dot_, vu, hd, lane), dsum)), scale);
            for (int64_t j = lane; j < hd; j += 32) acc[j] = __fadd_rn(acc[j], __fmul_rn(ds, ku[j]));
        }
        if (use_shared)
            for (int64_t j = lane; j < hd; j += 32) dqt[j] = acc[j];
        __syncwarp();
    }
}

// dv[u] = sum_{h in group g} sum_{t >= u} p(t, u) * dout[t];  dk[u] = sum ... ds(t, u) * q[t].
__global__ void attention_dkdv_kernel(const float *__restrict__ q, const float *__restrict__ k,
                                      const float *__restrict__ v, const float *__restrict__ out,
                                      const float *__restrict__ lse, const float *__restrict__ dout, Dims d,
                                      float scale, float *__restrict__ dk, float *__restrict__ dv, bool use_shared) {
    extern __shared__ float shared[];
    const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
    const int64_t total = d.batch * d.kv_heads * d.seq, hd = d.head_dim;
    for (int64_t row = (int64_t)blockIdx.x * kWarps + warp; row < total; row += (int64_t)gridDim.x * kWarps) {
        const int64_t u = row % d.seq, bg = row / d.seq, g = bg % d.kv_heads, b = bg / d.kv_heads;
        const int64_t au = (b * d.seq + u) * d.kw + g * hd;
        const float *ku = k + au, *vu = v + au;
        float *dku = dk + au, *dvu = dv + au;
        float *acck = use_shared ? shared + (int64_t)(2 * warp) * hd : dku;
        float *accv = use_shared ? shared + (int64_t)(2 * warp + 1) * hd : dvu;

        for (int64_t j = lane; j < hd; j += 32) acck[j] = accv[j] = 0.0f;
        for (int64_t h = g * d.group; h < (g + 1) * d.group; h++) {
            for (int64_t t = u; t < d.seq; t++) {
                const int64_t at = (b * d.seq + t) * d.qw + h * hd;
                const float *qt = q + at, *ot = out + at, *dot_ = dout + at;
                const float l = lse[(b * d.heads + h) * d.seq + t];
                const float dsum = warp_dot(dot_, ot, hd, lane);
                const float p = expf(__fsub_rn(__fmul_rn(warp_dot(qt, ku, hd, lane), scale), l));
                const float ds = __fmul_rn(__fmul_rn(p, __fsub_rn(warp_dot(dot_, vu, hd, lane), dsum)), scale);
                for (int64_t j = lane; j < hd; j += 32) {
                    accv[j] = __fadd_rn(accv[j], __fmul_rn(p, dot_[j]));
                    acck[j] = __fadd_rn(acck[j], __fmul_rn(ds, qt[j]));
                }
            }
        }
        if (use_shared)
            for (int64_t j = lane; j < hd; j += 32) {
                dku[j] = acck[j];
                dvu[j] = accv[j];
            }
        __syncwarp();
    }
}

unsigned warp_grid(int64_t rows) {
    const int64_t blocks = (rows + kWarps - 1) / kWarps;
    return (unsigned)(blocks < kMaxBlocks ? blocks : kMaxBlocks);
}

// Shared memory for `accumulators` head_dim slices per warp, or 0 (accumulate in the output rows) when too large.
size_t shared_bytes(int64_t head_dim, int accumulators) {
    const size_t bytes = (size_t)kWarps * (size_t)accumulators * (size_t)head_dim * sizeof(float);
    return bytes <= kMaxShared ? bytes : 0;
}

// Attention of new tokens against a key/value cache (sbc_cached_attention): one warp per query row (b, t, h), over
// the keys lo .. pos of its sequence, twice as the forward above (the max, then the weighted sum accumulated in the
// output row, the normaliser in double).
__global__ void cached_attention_kernel(const float *__restrict__ q, const float *__restrict__ kc,
                                        const float *__restrict__ vc, const int32_t *__restrict__ past,
                                        int64_t batch, int64_t new_tokens, int64_t max_len, Dims d, float scale,
                                        int64_t window, float *__restrict__ out) {
    const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
    const int64_t total = batch * new_tokens * d.heads, hd = d.head_dim;
    for (int64_t task = (int64_t)blockIdx.x * kWarps + warp; task < total; task += (int64_t)gridDim.x * kWarps) {
        const int64_t h = task % d.heads, row = task / d.heads, b = row / new_tokens, t = row % new_tokens;
        const int64_t pos = (int64_t)past[b] + t;
        const int64_t lo = window > 0 && pos - window + 1 > 0 ? pos - window + 1 : 0;
        const float *qt = q + row * d.qw + h * hd;
        const int64_t off = b * max_len * d.kw + (h / d.group) * hd;
        const float *kb = kc + off, *vb = vc + off;
        float *o = out + row * d.qw + h * hd;
        float m = -INFINITY;
        for (int64_t u = lo; u <= pos; u++) {
            const float s = __fmul_rn(warp_dot(qt, kb + u * d.kw, hd, lane), scale);
            m = s > m ? s : m;
        }
        for (int64_t j = lane; j < hd; j += 32) o[j] = 0.0f;
        double l = 0.0;
        for (int64_t u = lo; u <= pos; u++) {
            const float s = __fmul_rn(warp_dot(qt, kb + u * d.kw, hd, lane), scale);
            const float p = expf(__fsub_rn(s, m));
            l += (double)p;
            const float *vu = vb + u * d.kw;
            for (int64_t j = lane; j < hd; j += 32) o[j] = __fadd_rn(o[j], __fmul_rn(p, vu[j]));
        }
        const float inv = (float)__ddiv_rn(1.0, l);
        for (int64_t j = lane; j < hd; j += 32) o[j] = __fmul_rn(o[j], inv);
        __syncwarp();
    }
}

// past[b] in [0, limit) for every b, read back to the host as sbc_rope does with its positions: a kernel must not
// read past a sequence's rows of the cache.
int past_in_range(const int32_t *past, int64_t batch, int64_t limit, cudaStream_t stream) {
    constexpr int64_t kChunk = 4096;
    int32_t host[kChunk];
    for (int64_t lo = 0; lo < batch; lo += kChunk) {
        const int64_t n = batch - lo < kChunk ? batch - lo : kChunk;
        cudaError_t e = cudaMemcpyAsync(host, past + lo, (size_t)n * sizeof(int32_t), cudaMemcpyDeviceToHost, stream);
        if (e == cudaSuccess) e = cudaStreamSynchronize(stream);
        if (e != cudaSuccess) return status(e);
        for (int64_t i = 0; i < n; i++) {
            if (host[i] < 0 || host[i] >= limit) return SBC_ERR_INDEX;
        }
    }
    return SBC_OK;
}

} // namespace

extern "C" int sbc_attention_forward(const float *q, const float *k, const float *v, int64_t batch, int64_t seq,
                                     int64_t heads, int64_t kv_heads, int64_t head_dim, float scale, float *out,
                                     float *lse, void *stream) {
    SBC_CHECK(batch >= 0 && seq >= 0 && heads > 0 && kv_heads > 0 && head_dim > 0 && heads % kv_heads == 0);
    if (batch == 0 || seq == 0) return SBC_OK;
    SBC_CHECK(q != nullptr && k != nullptr && v != nullptr && out != nullptr && lse != nullptr);
    const Dims d{batch, seq, heads, kv_heads, head_dim, heads / kv_heads, heads * head_dim, kv_heads * head_dim};
    const size_t shared = shared_bytes(head_dim, 1);
    attention_forward_kernel<<<warp_grid(batch * heads * seq), kWarps * 32, shared, as_stream(stream)>>>(
        q, k, v, d, scale, out, lse, shared > 0);
    return launched();
}

extern "C" int sbc_attention_backward(const float *q, const float *k, const float *v, const float *out,
                                      const float *lse, const float *dout, int64_t batch, int64_t seq, int64_t heads,
                                      int64_t kv_heads, int64_t head_dim, float scale, float *dq, float *dk, float *dv,
                                      void *stream) {
    SBC_CHECK(batch >= 0 && seq >= 0 && heads > 0 && kv_heads > 0 && head_dim > 0 && heads % kv_heads == 0);
    if (batch == 0 || seq == 0) return SBC_OK;
    SBC_CHECK(q != nullptr && k != nullptr && v != nullptr && out != nullptr && lse != nullptr && dout != nullptr);
    SBC_CHECK(dq != nullptr && dk != nullptr && dv != nullptr);
    const Dims d{batch, seq, heads, kv_heads, head_dim, heads / kv_heads, heads * head_dim, kv_heads * head_dim};
    const size_t shared_q = shared_bytes(head_dim, 1);
    attention_dq_kernel<<<warp_grid(batch * heads * seq), kWarps * 32, shared_q, as_stream(stream)>>>(
        q, k, v, out, lse, dout, d, scale, dq, shared_q > 0);
    const int e = launched();
    if (e != SBC_OK) return e;
    const size_t shared_kv = shared_bytes(head_dim, 2);
    attention_dkdv_kernel<<<warp_grid(batch * kv_heads * seq), kWarps * 32, shared_kv, as_stream(stream)>>>(
        q, k, v, out, lse, dout, d, scale, dk, dv, shared_kv > 0);
    return launched();
}

extern "C" int sbc_cached_attention(const float *q, const float *k_cache, const float *v_cache, const int32_t *past,
                                    int64_t batch, int64_t new_tokens, int64_t max_len, int64_t heads,
                                    int64_t kv_heads, int64_t head_dim, float scale, int64_t window, float *out,
                                    void *stream) {
    SBC_CHECK(batch >= 0 && new_tokens >= 0 && max_len >= 0 && heads > 0 && kv_heads > 0 && head_dim > 0 &&
              heads % kv_heads == 0 && window >= 0);
    if (batch == 0 || new_tokens == 0) return SBC_OK;
    SBC_CHECK(q != nullptr && k_cache != nullptr && v_cache != nullptr && past != nullptr && out != nullptr);
    SBC_CHECK(new_tokens <= max_len);
    const int in_range = past_in_range(past, batch, max_len - new_tokens + 1, as_stream(stream));
    if (in_range != SBC_OK) return in_range;
    const Dims d{batch, new_tokens, heads, kv_heads, head_dim, heads / kv_heads, heads * head_dim, kv_heads * head_dim};
    cached_attention_kernel<<<warp_grid(batch * new_tokens * heads), kWarps * 32, 0, as_stream(stream)>>>(
        q, k_cache, v_cache, past, batch, new_tokens, max_len, d, scale, window, out);
    return launched();
}
