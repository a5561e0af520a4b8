// SBoRA-FA column gather on the GPU. One thread per output element; consecutive threads read consecutive idx
// entries of one row, so each warp's loads stay within one row of x.
#include "sbora_cuda.h"

#include <cuda_runtime.h>

namespace {

__global__ void gather_cols_kernel(const float *__restrict__ x, int64_t rows, int64_t ldx,
                                   const int32_t *__restrict__ idx, int64_t r, float *__restrict__ out, int64_t ldo) {
    const int64_t e = (int64_t)blockIdx.x * blockDim.x + threadIdx.x;
    if (e >= rows * r) return;
    const int64_t t = e / r, j = e % r;
    out[t * ldo + j] = x[t * ldx + idx[j]];
}

}  // namespace

extern "C" int sbc_device_count(int *out) {
    if (out == nullptr) return SBC_ERR_ARG;
    *out = 0;
    return (int)cudaGetDeviceCount(out);
}

extern "C" int sbc_gather_cols(const float *x, int64_t rows, int64_t cols, int64_t ldx, const int32_t *idx, int64_t r,
                               float *out, int64_t ldo, void *stream) {
    if (rows < 0 || cols < 0 || r < 0 || ldx < cols || ldo < r) return SBC_ERR_ARG;
    if (rows == 0 || r == 0) return SBC_OK;
    if (x == nullptr || idx == nullptr || out == nullptr) return SBC_ERR_ARG;
    const int threads = 256;
    const int64_t blocks = (rows * r + threads - 1) / threads;
    gather_cols_kernel<<<(unsigned)blocks, threads, 0, (cudaStream_t)stream>>>(x, rows, ldx, idx, r, out, ldo);
    return (int)cudaGetLastError();
}
