// The f32 elementwise launchers of sbora_native.h's twins: the typed kernels of typed_ops.cu on f32 arrays. Those
// compute every result as the one correctly rounded IEEE operation the C code computes (round-to-nearest
// intrinsics, never fused), so cuda and cpu agree bit for bit; out may alias an input.
#include "sbc_internal.cuh"

extern "C" int sbc_fill(float *x, int64_t n, float value, void *stream) {
    return sbc_fill_t(x, SBC_F32, n, value, stream);
}

extern "C" int sbc_add(const float *a, const float *b, int64_t n, float *out, void *stream) {
    return sbc_binary_t(SBC_OP_ADD, a, b, SBC_F32, n, out, stream);
}

extern "C" int sbc_sub(const float *a, const float *b, int64_t n, float *out, void *stream) {
    return sbc_binary_t(SBC_OP_SUB, a, b, SBC_F32, n, out, stream);
}

extern "C" int sbc_mul(const float *a, const float *b, int64_t n, float *out, void *stream) {
    return sbc_binary_t(SBC_OP_MUL, a, b, SBC_F32, n, out, stream);
}

extern "C" int sbc_div(const float *a, const float *b, int64_t n, float *out, void *stream) {
    return sbc_binary_t(SBC_OP_DIV, a, b, SBC_F32, n, out, stream);
}

extern "C" int sbc_scale(const float *x, int64_t n, float s, float *out, void *stream) {
    return sbc_scale_t(x, SBC_F32, n, s, out, stream);
}

extern "C" int sbc_axpy(int64_t n, float alpha, const float *x, float *y, void *stream) {
    return sbc_axpy_t(n, alpha, x, SBC_F32, y, SBC_F32, stream);
}
