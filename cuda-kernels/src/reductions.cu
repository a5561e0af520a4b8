// Reductions accumulated in double (native/src/reductions.c), results in the caller's device memory. The output is
// zeroed on the stream, each block reduces a grid-stride share and adds it with one atomicAdd: nothing is allocated.
// The order of the additions differs from the CPU's (and between runs for sum and dot), so those two agree with the
// cpu backend within double rounding; count_nonfinite is exact. sum and count_nonfinite are the typed kernels of
// typed_ops.cu on f32.
#include "sbc_internal.cuh"

using namespace sbc;

namespace {

__global__ void dot_kernel(const float *__restrict__ a, const float *__restrict__ b, int64_t n, double *out) {
    __shared__ double scratch[33];
    double s = 0.0;
    // The product of two floats is exact in double, so a fused multiply-add here changes nothing.
    for (int64_t i = global_id(); i < n; i += global_stride()) s += (double)a[i] * (double)b[i];
    s = block_sum(s, scratch);
    if (threadIdx.x == 0) atomicAdd(out, s);
}

} // namespace

extern "C" int sbc_sum(const float *x, int64_t n, double *out, void *stream) {
    return sbc_sum_t(x, SBC_F32, n, out, stream);
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
    return sbc_count_nonfinite_t(x, SBC_F32, n, out, stream);
}
