// Gathers and index-adds along rows or columns: the SBoRA kernels (native/src/index_ops.c). One thread per element,
// consecutive threads on consecutive elements of one output (or source) row. Index ranges are the caller's
// responsibility on the device (the C kernels check them; these do not).
#include "sbc_internal.cuh"

using namespace sbc;

namespace {

// out[t, j] = x[t, idx[j]]
__global__ void gather_cols_kernel(const float *__restrict__ x, int64_t ldx, const int32_t *__restrict__ idx,
                                   int64_t rows, int64_t r, float *__restrict__ out, int64_t ldo) {
    const int64_t total = rows * r;
    for (int64_t e = global_id(); e < total; e += global_stride()) {
        const int64_t t = e / r, j = e - t * r;
        out[t * ldo + j] = x[t * ldx + idx[j]];
    }
}

// out[j, c] = x[idx[j], c]
__global__ void gather_rows_kernel(const float *__restrict__ x, int64_t ldx, const int32_t *__restrict__ idx,
                                   int64_t r, int64_t cols, float *__restrict__ out, int64_t ldo) {
    const int64_t total = r * cols;
    for (int64_t e = global_id(); e < total; e += global_stride()) {
        const int64_t j = e / cols, c = e - j * cols;
        out[j * ldo + c] = x[(int64_t)idx[j] * ldx + c];
    }
}

// dst[t, idx[j]] += alpha * src[t, j]; indices distinct, so no two threads touch the same element.
__global__ void index_add_cols_kernel(float *dst, int64_t ldd, const int32_t *__restrict__ idx,
                                      int64_t rows, int64_t r, const float *src, int64_t lds,
                                      float alpha) {
    const int64_t total = rows * r;
    for (int64_t e = global_id(); e < total; e += global_stride()) {
        const int64_t t = e / r, j = e - t * r;
        float *d = dst + t * ldd + idx[j];
        *d = __fadd_rn(*d, __fmul_rn(alpha, src[t * lds + j]));
    }
}

// dst[idx[j], c] += alpha * src[j, c]; repeated indices accumulate through atomics (in no fixed order).
__global__ void index_add_rows_kernel(float *dst, int64_t ldd, const int32_t *__restrict__ idx,
                                      int64_t r, int64_t cols, const float *src, int64_t lds,
                                      float alpha) {
    const int64_t total = r * cols;
    for (int64_t e = global_id(); e < total; e += global_stride()) {
        const int64_t j = e / cols, c = e - j * cols;
        atomicAdd(dst + (int64_t)idx[j] * ldd + c, __fmul_rn(alpha, src[j * lds + c]));
    }
}

} // namespace

extern "C" int sbc_gather_cols(const float *x, int64_t rows, int64_t cols, int64_t ldx, const int32_t *idx, int64_t r,
                               float *out, int64_t ldo, void *stream) {
    SBC_CHECK(rows >= 0 && cols >= 0 && r >= 0 && ldx >= cols && ldo >= r);
    if (rows == 0 || r == 0) return SBC_OK;
    SBC_CHECK(x != nullptr && idx != nullptr && out != nullptr);
    gather_cols_kernel<<<grid_for(rows * r), kThreads, 0, as_stream(stream)>>>(x, ldx, idx, rows, r, out, ldo);
    return launched();
}

extern "C" int sbc_gather_rows(const float *x, int64_t rows, int64_t cols, int64_t ldx, const int32_t *idx, int64_t r,
                               float *out, int64_t ldo, void *stream) {
    SBC_CHECK(rows >= 0 && cols >= 0 && r >= 0 && ldx >= cols && ldo >= cols);
    if (r == 0 || cols == 0) return SBC_OK;
    SBC_CHECK(x != nullptr && idx != nullptr && out != nullptr);
    gather_rows_kernel<<<grid_for(r * cols), kThreads, 0, as_stream(stream)>>>(x, ldx, idx, r, cols, out, ldo);
    return launched();
}

extern "C" int sbc_index_add_cols(float *dst, int64_t rows, int64_t cols, int64_t ldd, const int32_t *idx, int64_t r,
                                  const float *src, int64_t lds, float alpha, void *stream) {
    SBC_CHECK(rows >= 0 && cols >= 0 && r >= 0 && ldd >= cols && lds >= r);
    if (rows == 0 || r == 0) return SBC_OK;
    SBC_CHECK(dst != nullptr && idx != nullptr && src != nullptr);
    index_add_cols_kernel<<<grid_for(rows * r), kThreads, 0, as_stream(stream)>>>(dst, ldd, idx, rows, r, src, lds,
                                                                                   alpha);
    return launched();
}

extern "C" int sbc_index_add_rows(float *dst, int64_t rows, int64_t cols, int64_t ldd, const int32_t *idx, int64_t r,
                                  const float *src, int64_t lds, float alpha, void *stream) {
    SBC_CHECK(rows >= 0 && cols >= 0 && r >= 0 && ldd >= cols && lds >= cols);
    if (r == 0 || cols == 0) return SBC_OK;
    SBC_CHECK(dst != nullptr && idx != nullptr && src != nullptr);
    index_add_rows_kernel<<<grid_for(r * cols), kThreads, 0, as_stream(stream)>>>(dst, ldd, idx, r, cols, src, lds,
                                                                                   alpha);
    return launched();
}
