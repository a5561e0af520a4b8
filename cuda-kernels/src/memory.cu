// Devices, memory, copies and error strings: the small part of the CUDA runtime that Java needs, so that the
// runtime can be linked into this library statically.
#include "sbc_internal.cuh"

#include <atomic>
#include <stdio.h>

using namespace sbc;

static_assert(SBC_HOST_TO_DEVICE == cudaMemcpyHostToDevice && SBC_DEVICE_TO_HOST == cudaMemcpyDeviceToHost &&
                  SBC_DEVICE_TO_DEVICE == cudaMemcpyDeviceToDevice,
              "the SBC_ copy directions are cudaMemcpyKind values");

namespace {

__global__ void check_indices_kernel(const int32_t *__restrict__ idx, int64_t n, int64_t bound, int has_ignore,
                                     int32_t ignore, int *fault) {
    for (int64_t i = global_id(); i < n; i += global_stride()) {
        const int32_t v = idx[i];
        // Atomic: several threads may find a bad index, and plain stores of theirs would race (the same 1, but a
        // data race all the same, which the emulator's race checker reports).
        if ((v < 0 || (int64_t)v >= bound) && !(has_ignore && v == ignore)) atomicExch(fault, 1);
    }
}

// The flag, allocated and zeroed once per process on the current device (a function-local static: thread-safe).
int *fault_flag() {
    static int *flag = [] {
        int *p = nullptr;
        if (cudaMalloc((void **)&p, sizeof(int)) != cudaSuccess) {
            (void)cudaGetLastError();
            return (int *)nullptr;
        }
        const int zero = 0;
        if (cudaMemcpy(p, &zero, sizeof(int), cudaMemcpyHostToDevice) != cudaSuccess) {
            (void)cudaGetLastError();
            (void)cudaFree(p);
            return (int *)nullptr;
        }
        return p;
    }();
    return flag;
}

std::atomic<bool> fault_flag_allocated{false}; // set by check_indices: until then sbc_take_index_fault copies nothing

} // namespace

namespace sbc {

int check_indices(const int32_t *idx, int64_t n, int64_t bound, bool has_ignore, int32_t ignore, cudaStream_t stream,
                  const int **fault) {
    int *flag = fault_flag();
    if (flag == nullptr) return status(cudaErrorMemoryAllocation);
    fault_flag_allocated = true;
    *fault = flag;
    if (n == 0) return SBC_OK;
    check_indices_kernel<<<grid_for(n), kThreads, 0, stream>>>(idx, n, bound, has_ignore ? 1 : 0, ignore, flag);
    return launched();
}

} // namespace sbc

extern "C" int sbc_take_index_fault(int *out, void *stream) {
    SBC_CHECK(out != nullptr);
    *out = 0;
    if (!fault_flag_allocated) return SBC_OK; // no index was ever checked: nothing to copy, no synchronisation
    int *flag = fault_flag();
    int raised = 0;
    cudaError_t e = cudaMemcpyAsync(&raised, flag, sizeof(int), cudaMemcpyDeviceToHost, as_stream(stream));
    if (e == cudaSuccess) e = cudaStreamSynchronize(as_stream(stream));
    if (e == cudaSuccess && raised != 0) e = cudaMemsetAsync(flag, 0, sizeof(int), as_stream(stream));
    if (e != cudaSuccess) return status(e);
    *out = raised != 0 ? 1 : 0;
    return SBC_OK;
}

extern "C" int sbc_device_count(int *out) {
    SBC_CHECK(out != nullptr);
    *out = 0;
    int n = 0;
    const cudaError_t e = cudaGetDeviceCount(&n); // no driver or no GPU: an error status and *out = 0
    if (e != cudaSuccess) return status(e);
    *out = n;
    return SBC_OK;
}

extern "C" int sbc_set_device(int device) {
    SBC_CHECK(device >= 0);
    return status(cudaSetDevice(device));
}

extern "C" int sbc_device_info(int device, char *name, int64_t len, int *capability) {
    SBC_CHECK(device >= 0 && name != nullptr && len > 0 && capability != nullptr);
    cudaDeviceProp prop;
    const cudaError_t e = cudaGetDeviceProperties(&prop, device);
    if (e != cudaSuccess) return status(e);
    snprintf(name, (size_t)len, "%s", prop.name);
    *capability = prop.major * 10 + prop.minor;
    return SBC_OK;
}

extern "C" int sbc_error_string(int code, char *buf, int64_t len) {
    SBC_CHECK(buf != nullptr && len > 0);
    if (code == SBC_ERR_ARG) {
        snprintf(buf, (size_t)len, "%s", "SBC_ERR_ARG: invalid argument");
    } else if (code == SBC_ERR_INDEX) {
        snprintf(buf, (size_t)len, "%s", "SBC_ERR_INDEX: index out of range");
    } else {
        const cudaError_t e = (cudaError_t)code;
        const char *ename = cudaGetErrorName(e), *text = cudaGetErrorString(e);
        snprintf(buf, (size_t)len, "%s: %s", ename != nullptr ? ename : "unrecognized error code",
                 text != nullptr ? text : "unrecognized error code");
    }
    return SBC_OK;
}

extern "C" int sbc_malloc(void **ptr, int64_t bytes) {
    SBC_CHECK(ptr != nullptr && bytes >= 0);
    *ptr = nullptr;
    return status(cudaMalloc(ptr, (size_t)bytes));
}

extern "C" int sbc_free(void *ptr) { return status(cudaFree(ptr)); } // cudaFree(NULL) does nothing

extern "C" int sbc_memcpy(void *dst, const void *src, int64_t bytes, int kind) {
    SBC_CHECK(bytes >= 0);
    SBC_CHECK(kind == SBC_HOST_TO_DEVICE || kind == SBC_DEVICE_TO_HOST || kind == SBC_DEVICE_TO_DEVICE);
    if (bytes == 0) return SBC_OK;
    SBC_CHECK(dst != nullptr && src != nullptr);
    return status(cudaMemcpy(dst, src, (size_t)bytes, (cudaMemcpyKind)kind));
}

extern "C" int sbc_memset(void *ptr, int value, int64_t bytes, void *stream) {
    SBC_CHECK(bytes >= 0);
    if (bytes == 0) return SBC_OK;
    SBC_CHECK(ptr != nullptr);
    return status(cudaMemsetAsync(ptr, value, (size_t)bytes, as_stream(stream)));
}

extern "C" int sbc_synchronize(void) { return status(cudaDeviceSynchronize()); }

extern "C" int sbc_stream_create(void **stream) {
    SBC_CHECK(stream != nullptr);
    *stream = nullptr;
    cudaStream_t s = nullptr;
    const cudaError_t e = cudaStreamCreate(&s); // default flags: blocking, ordered with the legacy default stream
    if (e != cudaSuccess) return status(e);
    *stream = (void *)s;
    return SBC_OK;
}

// NULL (the legacy default stream, never created here) does nothing, as sbc_free(NULL).
extern "C" int sbc_stream_destroy(void *stream) {
    if (stream == nullptr) return SBC_OK;
    return status(cudaStreamDestroy(as_stream(stream)));
}

extern "C" int sbc_stream_synchronize(void *stream) { return status(cudaStreamSynchronize(as_stream(stream))); }

// From or to pageable host memory the runtime stages the copy: it returns once the source has been read (host to
// device) or the copy is done (device to host), so only pinned memory makes those copies fully asynchronous.
extern "C" int sbc_memcpy_async(void *dst, const void *src, int64_t bytes, int kind, void *stream) {
    SBC_CHECK(bytes >= 0);
    SBC_CHECK(kind == SBC_HOST_TO_DEVICE || kind == SBC_DEVICE_TO_HOST || kind == SBC_DEVICE_TO_DEVICE);
    if (bytes == 0) return SBC_OK;
    SBC_CHECK(dst != nullptr && src != nullptr);
    return status(cudaMemcpyAsync(dst, src, (size_t)bytes, (cudaMemcpyKind)kind, as_stream(stream)));
}
