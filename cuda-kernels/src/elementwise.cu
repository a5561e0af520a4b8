// Elementwise kernels over contiguous floats (native/src/elementwise.c). Every result is the one correctly rounded
// IEEE operation the C code computes (round-to-nearest intrinsics, never fused), so cuda and cpu agree bit for bit.
// out may alias an input (each thread reads its element before writing it), hence no __restrict__.
#include "sbc_internal.cuh"

using namespace sbc;

namespace {

template <typename Op>
__global__ void binary_kernel(const float *a, const float *b, int64_t n, float *out) {
    const Op op{};
    for (int64_t i = global_id(); i < n; i += global_stride()) out[i] = op(a[i], b[i]);
}

__global__ void fill_kernel(float *x, int64_t n, float value) {
    for (int64_t i = global_id(); i < n; i += global_stride()) x[i] = value;
}

__global__ void scale_kernel(const float *x, int64_t n, float s, float *out) {
    for (int64_t i = global_id(); i < n; i += global_stride()) out[i] = __fmul_rn(x[i], s);
}

// y += alpha * x: a product, then a sum, each rounded.
__global__ void axpy_kernel(int64_t n, float alpha, const float *x, float *y) {
    for (int64_t i = global_id(); i < n; i += global_stride()) y[i] = __fadd_rn(y[i], __fmul_rn(alpha, x[i]));
}

template <typename Op>
int binary(const float *a, const float *b, int64_t n, float *out, void *stream) {
    SBC_CHECK(n >= 0);
    if (n == 0) return SBC_OK;
    SBC_CHECK(a != nullptr && b != nullptr && out != nullptr);
    binary_kernel<Op><<<grid_for(n), kThreads, 0, as_stream(stream)>>>(a, b, n, out);
    return launched();
}

} // namespace

extern "C" int sbc_fill(float *x, int64_t n, float value, void *stream) {
    SBC_CHECK(n >= 0);
    if (n == 0) return SBC_OK;
    SBC_CHECK(x != nullptr);
    fill_kernel<<<grid_for(n), kThreads, 0, as_stream(stream)>>>(x, n, value);
    return launched();
}

extern "C" int sbc_add(const float *a, const float *b, int64_t n, float *out, void *stream) {
    return binary<AddOp>(a, b, n, out, stream);
}

extern "C" int sbc_sub(const float *a, const float *b, int64_t n, float *out, void *stream) {
    return binary<SubOp>(a, b, n, out, stream);
}

extern "C" int sbc_mul(const float *a, const float *b, int64_t n, float *out, void *stream) {
    return binary<MulOp>(a, b, n, out, stream);
}

extern "C" int sbc_div(const float *a, const float *b, int64_t n, float *out, void *stream) {
    return binary<DivOp>(a, b, n, out, stream);
}

extern "C" int sbc_scale(const float *x, int64_t n, float s, float *out, void *stream) {
    SBC_CHECK(n >= 0);
    if (n == 0) return SBC_OK;
    SBC_CHECK(x != nullptr && out != nullptr);
    scale_kernel<<<grid_for(n), kThreads, 0, as_stream(stream)>>>(x, n, s, out);
    return launched();
}

extern "C" int sbc_axpy(int64_t n, float alpha, const float *x, float *y, void *stream) {
    SBC_CHECK(n >= 0);
    if (n == 0) return SBC_OK;
    SBC_CHECK(x != nullptr && y != nullptr);
    axpy_kernel<<<grid_for(n), kThreads, 0, as_stream(stream)>>>(n, alpha, x, y);
    return launched();
}
