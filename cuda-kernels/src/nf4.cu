// NF4 quantisation (native/src/nf4.c): QLoRA's 16-value table, one absmax per block, two codes per byte with the
// even element in the high nibble and a ragged last block padded with code 7 (the code of 0). Exact: the absmax is
// a max, the codes come from the same rounded products compared against the same midpoints, and dequantisation is
// one rounded product.
#include "sbc_internal.cuh"

using namespace sbc;

namespace {

__constant__ float kNF4[16] = {
    -1.0f, -0.6961928009986877f, -0.5250730514526367f, -0.39491748809814453f, -0.28444138169288635f,
    -0.18477343022823334f, -0.09105003625154495f, 0.0f, 0.07958029955625534f, 0.16093020141124725f,
    0.24611230194568634f, 0.33791524171829224f, 0.44070982933044434f, 0.5626170039176941f, 0.7229568362236023f, 1.0f};

// The number of midpoints 0.5 * (NF4[k] + NF4[k+1]) below v: the index of the nearest value (0 for NaN).
__device__ __forceinline__ unsigned nearest(float v, const float *mid) {
    unsigned q = 0;
#pragma unroll
    for (int k = 0; k < 15; k++) q += v > mid[k];
    return q;
}

// One warp per NF4 block: the lanes find the absmax together, then each packs pairs of elements.
__global__ void nf4_quantize_kernel(const float *__restrict__ x, int64_t n, int64_t block, uint8_t *__restrict__ packed,
                                    float *__restrict__ absmax) {
    __shared__ float mid[15];
    if (threadIdx.x < 15) mid[threadIdx.x] = __fmul_rn(0.5f, __fadd_rn(kNF4[threadIdx.x], kNF4[threadIdx.x + 1]));
    __syncthreads();
    const int lane = threadIdx.x & 31;
    const int64_t blocks = (n + block - 1) / block;
    const int64_t first = global_id() >> 5, stride = global_stride() >> 5;
    for (int64_t b = first; b < blocks; b += stride) { // warp-uniform
        const int64_t lo = b * block, hi = lo + block < n ? lo + block : n;
        float m = 0.0f;
        for (int64_t i = lo + lane; i < hi; i += 32) m = max_skip_nan(m, fabsf(x[i]));
        m = warp_max_skip_nan(m);
        if (lane == 0) absmax[b] = m;
        const float inv = m > 0.0f ? __fdiv_rn(1.0f, m) : 0.0f;
        for (int64_t i = lo + 2 * lane; i < hi; i += 64) { // lo is even (block is)
            const unsigned hiq = nearest(__fmul_rn(x[i], inv), mid);
            const unsigned loq = i + 1 < hi ? nearest(__fmul_rn(x[i + 1], inv), mid) : 7u;
            packed[i / 2] = (uint8_t)(hiq << 4 | loq);
        }
    }
}

// out[i] = NF4[code of element start + i] * absmax[(start + i) / block]
__global__ void nf4_dequantize_kernel(const uint8_t *__restrict__ packed, const float *__restrict__ absmax,
                                      int64_t start, int64_t count, int64_t block, float *__restrict__ out) {
    __shared__ float table[16];
    if (threadIdx.x < 16) table[threadIdx.x] = kNF4[threadIdx.x];
    __syncthreads();
    for (int64_t i = global_id(); i < count; i += global_stride()) {
        const int64_t e = start + i;
        const uint8_t byte = packed[e >> 1];
        const unsigned q = (e & 1) ? (byte & 0x0fu) : (unsigned)(byte >> 4);
        out[i] = __fmul_rn(table[q], absmax[e / block]);
    }
}

} // namespace

extern "C" int sbc_nf4_quantize(const float *x, int64_t n, int64_t block, uint8_t *packed, float *absmax,
                                void *stream) {
    SBC_CHECK(n >= 0 && block > 0 && block % 2 == 0);
    if (n == 0) return SBC_OK;
    SBC_CHECK(x != nullptr && packed != nullptr && absmax != nullptr);
    const int64_t blocks = (n + block - 1) / block;
    nf4_quantize_kernel<<<grid_for(blocks * 32), kThreads, 0, as_stream(stream)>>>(x, n, block, packed, absmax);
    return launched();
}

extern "C" int sbc_nf4_dequantize(const uint8_t *packed, const float *absmax, int64_t start, int64_t count,
                                  int64_t block, float *out, void *stream) {
    SBC_CHECK(start >= 0 && count >= 0 && block > 0 && block % 2 == 0);
    if (count == 0) return SBC_OK;
    SBC_CHECK(packed != nullptr && absmax != nullptr && out != nullptr);
    nf4_dequantize_kernel<<<grid_for(count), kThreads, 0, as_stream(stream)>>>(packed, absmax, start, count, block,
                                                                              out);
    return launched();
}
