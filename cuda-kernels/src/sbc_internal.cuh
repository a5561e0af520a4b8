// Shared helpers of the CUDA kernels: argument checks, grid sizing, status handling and block reductions.
//
// Every launcher mirrors the C kernel of the same name in native/src (sb_X -> sbc_X): the same argument checks in the
// same order (SBC_ERR_ARG where the C code returns SB_ERR_ARG; index ranges are not checked on the device, but sbc_rope reads
// its positions on the host first and returns SBC_ERR_INDEX where sb_rope returns SB_ERR_INDEX; the launchers that
// read other indices from device memory check them on the device instead: see check_indices), the same
// early return on empty sizes, and the same arithmetic. Where the C result is a chain of single IEEE operations the
// kernels spell each one as a round-to-nearest intrinsic (__fadd_rn, __fmul_rn, ...), which nvcc never fuses into an
// FMA, so that those results equal the CPU's bit for bit without a --fmad=false build flag.
#ifndef SBC_INTERNAL_CUH
#define SBC_INTERNAL_CUH

#include "sbora_cuda.h"

#include <cuda_bf16.h>
#include <cuda_runtime.h>
#include <stdint.h>
#include <string.h>

#define SBC_CHECK(cond)                                                                                             \
    do {                                                                                                            \
        if (!(cond)) return SBC_ERR_ARG;                                                                            \
    } while (0)

namespace sbc {

constexpr int kThreads = 256;              // threads per block of the element-wise kernels
constexpr int64_t kMaxBlocks = 1 << 20;    // grid cap; kernels stride over the rest

// Blocks for `work` items at `threads` per block (at least 1, at most kMaxBlocks; kernels loop grid-stride).
inline unsigned grid_for(int64_t work, int threads = kThreads) {
    int64_t b = (work + threads - 1) / threads;
    if (b < 1) b = 1;
    if (b > kMaxBlocks) b = kMaxBlocks;
    return (unsigned)b;
}

// Blocks of a reduction over n items: enough to fill the GPU, each adding one partial result to the output.
inline unsigned reduce_grid(int64_t n) {
    constexpr unsigned kReduceBlocks = 1024;
    const unsigned g = grid_for(n);
    return g < kReduceBlocks ? g : kReduceBlocks;
}

inline cudaStream_t as_stream(void *s) { return (cudaStream_t)s; }

// The status of the launch just made; reading it also clears the runtime's last-error slot.
inline int launched() { return (int)cudaGetLastError(); }

// The status of a runtime call. A failure is also cleared from the last-error slot, so that the next launcher's
// cudaGetLastError() does not report it a second time.
inline int status(cudaError_t e) {
    if (e != cudaSuccess) (void)cudaGetLastError();
    return (int)e;
}

// Index faults. A launcher that reads indices held on the device (gathers, index-adds, the fused SBoRA GEMMs,
// cross-entropy targets) first launches a small kernel that checks them against their bound and raises a sticky flag
// in device memory when one is out of range; the main kernel, later on the same stream, reads the flag first and
// does nothing when it is raised, so no access ever leaves its array. The host learns of the fault at its next
// synchronisation through sbc_take_index_fault (the flag stays raised until then, so every index kernel queued in
// between does nothing either). The flag is one int, allocated at the first check.
//
// check_indices: launches the check of idx[0, n) against [0, bound), `ignore` allowed too when has_ignore; *fault is
// the flag the main kernel must read. SBC_OK or a launch/allocation status.
int check_indices(const int32_t *idx, int64_t n, int64_t bound, bool has_ignore, int32_t ignore, cudaStream_t stream,
                  const int **fault);

__device__ __forceinline__ int64_t global_id() { return (int64_t)blockIdx.x * blockDim.x + threadIdx.x; }
__device__ __forceinline__ int64_t global_stride() { return (int64_t)gridDim.x * blockDim.x; }

template <typename T>
__device__ __forceinline__ T warp_sum(T v) {
    for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
    return v;
}

// C's `m = v > m ? v : m`: NaNs never win, so the result does not depend on the order of the comparisons.
__device__ __forceinline__ float max_skip_nan(float m, float v) { return v > m ? v : m; }

__device__ __forceinline__ float warp_max_skip_nan(float v) {
    for (int o = 16; o > 0; o >>= 1) v = max_skip_nan(v, __shfl_xor_sync(0xffffffffu, v, o));
    return v;
}

// Sum over the block (blockDim.x a multiple of 32, at most 1024), returned to every thread. Must be reached by
// all threads of the block; `scratch` holds 33 T in shared memory.
template <typename T>
__device__ T block_sum(T v, T *scratch) {
    const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, warps = blockDim.x >> 5;
    v = warp_sum(v);
    __syncthreads(); // scratch may still be read from a previous call
    if (lane == 0) scratch[warp] = v;
    __syncthreads();
    if (warp == 0) {
        T w = lane < warps ? scratch[lane] : T(0);
        w = warp_sum(w);
        if (lane == 0) scratch[32] = w;
    }
    __syncthreads();
    return scratch[32];
}

// Max (NaNs skipped, from `init`) over the block, returned to every thread; `scratch` holds 33 floats.
__device__ inline float block_max_skip_nan(float v, float init, float *scratch) {
    const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, warps = blockDim.x >> 5;
    v = warp_max_skip_nan(v);
    __syncthreads();
    if (lane == 0) scratch[warp] = v;
    __syncthreads();
    if (warp == 0) {
        float w = lane < warps ? scratch[lane] : init;
        w = warp_max_skip_nan(w);
        if (lane == 0) scratch[32] = w;
    }
    __syncthreads();
    return scratch[32];
}

// The binary operators of the elementwise kernels, each one correctly rounded IEEE operation (never fused).
struct AddOp {
    __device__ float operator()(float a, float b) const { return __fadd_rn(a, b); }
};
struct SubOp {
    __device__ float operator()(float a, float b) const { return __fsub_rn(a, b); }
};
struct MulOp {
    __device__ float operator()(float a, float b) const { return __fmul_rn(a, b); }
};
struct DivOp {
    __device__ float operator()(float a, float b) const { return __fdiv_rn(a, b); }
};

// ---- element types of the mixed-precision launchers (SBC_F32: float, SBC_BF16: __nv_bfloat16) ----

inline bool valid_type(int type) { return type == SBC_F32 || type == SBC_BF16; }

// Bytes per element of a valid type code.
inline int64_t type_size(int type) { return type == SBC_BF16 ? 2 : 4; }

// An element as f32: bf16 widens exactly, as the shift into the upper half (NaN payloads kept bit for bit).
__device__ __forceinline__ float load_f32(const float *p) { return *p; }
__device__ __forceinline__ float load_f32(const __nv_bfloat16 *p) {
    return __uint_as_float((unsigned)__bfloat16_as_ushort(*p) << 16);
}

// The bits of the bf16 nearest to v, ties to even, overflow to infinity, as io.sbora4j.tensor.BFloat16.fromFloat:
// a NaN keeps its sign and top payload bits and is made quiet (__float2bfloat16_rn would return one canonical NaN).
__host__ __device__ __forceinline__ unsigned short bf16_bits_rn(float v) {
#ifdef __CUDA_ARCH__
    const unsigned u = __float_as_uint(v);
#else
    unsigned u;
    memcpy(&u, &v, sizeof u);
#endif
    if ((u & 0x7fffffffu) > 0x7f800000u) return (unsigned short)((u >> 16) | 0x0040u);
    return (unsigned short)((u + 0x7fffu + ((u >> 16) & 1u)) >> 16);
}

// Stores an f32 result rounded once to the element type.
__device__ __forceinline__ void store_f32(float *p, float v) { *p = v; }
__device__ __forceinline__ void store_f32(__nv_bfloat16 *p, float v) { *p = __ushort_as_bfloat16(bf16_bits_rn(v)); }

} // namespace sbc

#endif
