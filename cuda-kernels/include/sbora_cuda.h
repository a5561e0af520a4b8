/*
 * sbora_cuda.h - the whole C API of the CUDA kernels of sbora4j (host launchers, extern "C").
 *
 * Same rules as sbora_native.h: sizes int64_t, row-major with leading dimensions, device pointers as float* /
 * int32_t*, every function returns an int status (0 = ok, else a cudaError_t value or SBC_ERR_ARG), the stream is
 * passed explicitly (NULL = the default stream), launchers never allocate.
 */
#ifndef SBORA_CUDA_H
#define SBORA_CUDA_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__)
#define SBC_API __attribute__((visibility("default")))
#else
#define SBC_API
#endif

/* Argument errors use a value outside cudaError_t's range. */
#define SBC_OK 0
#define SBC_ERR_ARG 100001

/* Number of CUDA devices visible (0 where there is no driver or no GPU; the status says why). */
SBC_API int sbc_device_count(int *out);

/* out[t, j] = x[t, idx[j]]: the SBoRA-FA gather, on the device. */
SBC_API int sbc_gather_cols(const float *x, int64_t rows, int64_t cols, int64_t ldx, const int32_t *idx, int64_t r,
                            float *out, int64_t ldo, void *stream);

#ifdef __cplusplus
}
#endif

#endif /* SBORA_CUDA_H */
