// The f32 gathers and index-adds (native/src/index_ops.c): the typed kernels of typed_ops.cu on f32 arrays, one
// thread per element. Index ranges are checked on the device (check_indices: an index out of range makes the kernel
// do nothing and is reported at the next sbc_take_index_fault); index_add_rows accumulates repeated indices through
// atomics, in no fixed order.
#include "sbc_internal.cuh"

extern "C" int sbc_gather_cols(const float *x, int64_t rows, int64_t cols, int64_t ldx, const int32_t *idx, int64_t r,
                               float *out, int64_t ldo, void *stream) {
    return sbc_gather_cols_t(x, SBC_F32, rows, cols, ldx, idx, r, out, ldo, stream);
}

extern "C" int sbc_gather_rows(const float *x, int64_t rows, int64_t cols, int64_t ldx, const int32_t *idx, int64_t r,
                               float *out, int64_t ldo, void *stream) {
    return sbc_gather_rows_t(x, SBC_F32, rows, cols, ldx, idx, r, out, ldo, stream);
}

extern "C" int sbc_index_add_cols(float *dst, int64_t rows, int64_t cols, int64_t ldd, const int32_t *idx, int64_t r,
                                  const float *src, int64_t lds, float alpha, void *stream) {
    return sbc_index_add_cols_t(dst, SBC_F32, rows, cols, ldd, idx, r, src, SBC_F32, lds, alpha, stream);
}

extern "C" int sbc_index_add_rows(float *dst, int64_t rows, int64_t cols, int64_t ldd, const int32_t *idx, int64_t r,
                                  const float *src, int64_t lds, float alpha, void *stream) {
    return sbc_index_add_rows_t(dst, SBC_F32, rows, cols, ldd, idx, r, src, SBC_F32, lds, alpha, stream);
}
