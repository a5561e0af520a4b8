// Reductions accumulated in double (native/src/reductions.c), results in the caller's device memory. The output is
// zeroed on the stream, each block reduces a grid-stride share and adds it with one atomicAdd: nothing is allocated.
// The order of the additions differs from the CPU's (and between runs for sum and dot), so those two agree with the
// cpu backend within double rounding; count_nonfinite is exact.
#include "sbc_internal.cuh"

using namespace sbc;

namespace {

constexpr int kReduceBlocks = 1024; // enough to fill the GPU; each adds one partial result

__global__ void sum_kernel(const float *__restrict__ x, int64_t n, double *out) {
    __shared__ double scratch[33];
    double s = 0.0;
    for (int64_t i = global_id(); i < n; i += global_stride()) s += (double)x[i];
    s = block_sum(s, scratch);
    if (threadIdx.x == 0) atomicAdd(out, s);
}

__global__ void dot_kernel(const float *__restrict__ a, const float *__restrict__ b, int64_t n, double *out) {
    __shared__ double scratch[33];
    double s = 0.0;
    // The product of two floats is exact in double, so a fused multiply-add here changes nothing.
    for (int64_t i = global_id(); i < n; i += global_stride()) s += (double)a[i] * (double)b[i];
    s = block_sum(s, scratch);
    if (threadIdx.x == 0) atomicAdd(out, s);
}

__global__ void nonfinite_kernel(const float *__restrict__ x, int64_t n, int64_t *out) {
    __shared__ long long scratch[33];
    long long c = 0;
    for (int64_t i = global_id(); i < n; i += global_stride()) c += !isfinite(x[i]);
    c = block_sum(c, scratch);
    if (threadIdx.x == 0 && c != 0) atomicAdd((unsigned long long *)out, (unsigned long long)c);
}

unsigned reduce_grid(int64_t n) {
    const unsigned g = grid_for(n);
    return g < (unsigned)kReduceBlocks ? g : (unsigned)kReduceBlocks;
}

} // namespace

extern "C" int sbc_sum(const float *x, int64_t n, double *out, void *stream) {
    SBC_CHECK(n >= 0 && out != nullptr);
    SBC_CHECK(n == 0 || x != nullptr);
    const cudaError_t e = cudaMemsetAsync(out, 0, sizeof(double), as_stream(stream)); // the sum of nothing is 0
    if (e != cudaSuccess || n == 0) return status(e);
    sum_kernel<<<reduce_grid(n), kThreads, 0, as_stream(stream)>>>(x, n, out);
    return launched();
}

extern "C" int sbc_dot(const float *a, const float *b, int64_t n, double *out, void *stream) {
    SBC_CHECK(n >= 0 && out != nullptr);
    SBC_CHECK(n == 0 || (a != nullptr && b != nullptr));
    const cudaError_t e = cudaMemsetAsync(out, 0, sizeof(double), as_stream(stream));
    if (e != cudaSuccess || n == 0) return status(e);
    dot_kernel<<<reduce_grid(n), kThreads, 0, as_stream(stream)>>>(a, b, n, out);
    return launched();
}

extern "C" int sbc_count_nonfinite(const float *x, int64_t n, int64_t *out, void *stream) {
    SBC_CHECK(n >= 0 && out != nullptr);
    SBC_CHECK(n == 0 || x != nullptr);
    const cudaError_t e = cudaMemsetAsync(out, 0, sizeof(int64_t), as_stream(stream));
    if (e != cudaSuccess || n == 0) return status(e);
    nonfinite_kernel<<<reduce_grid(n), kThreads, 0, as_stream(stream)>>>(x, n, out);
    return launched();
}
