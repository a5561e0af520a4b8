// cublas_emu.cpp - a stand-in for exactly the cuBLAS calls that Java binds (java/src/main/java/io/sbora4j/ffi/
// cublas_v2_h.java), built as libcublas.so beside the emulated libsbora_cuda.so, so that the cuda backend's Java
// tests run on the emulated device (cuda-kernels/README.md, "Emulated tests"). Device memory is host memory there,
// so a GEMM is a plain loop, run at once (the emulated stream is synchronous).
//
// What it checks is our side of the calls: column-major operands, op N/T, leading dimensions, types, host alpha and
// beta. Arguments cuBLAS rejects give its status (CUBLAS_STATUS_INVALID_VALUE, or NOT_SUPPORTED for a type or
// algorithm combination it lacks). Where cuBLAS would fault on the device instead, the call fails with
// CUBLAS_STATUS_EXECUTION_FAILED and a line on stderr: a matrix (all its columns up to its leading dimension) that
// does not lie within one cudaMalloc block of the emulated runtime (sbc_emu_device_bytes, from the libsbora_cuda.so
// this library links), or alpha or beta in device memory (the host pointer mode). Products are summed in double and
// rounded once to C's type (bf16: to nearest, ties to even), which is within rounding of cuBLAS's f32 accumulation in
// whatever order, not equal to it bit for bit.
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

extern "C" int64_t sbc_emu_device_bytes(const void *p); // the emulated runtime (cuda_emu.h)

#define CUBLAS_EMU_API extern "C" __attribute__((visibility("default")))

namespace {

enum : int {
    CUBLAS_STATUS_SUCCESS = 0,
    CUBLAS_STATUS_NOT_INITIALIZED = 1,
    CUBLAS_STATUS_INVALID_VALUE = 7,
    CUBLAS_STATUS_EXECUTION_FAILED = 13,
    CUBLAS_STATUS_NOT_SUPPORTED = 15,
};
enum : int { CUBLAS_OP_N = 0, CUBLAS_OP_T = 1, CUBLAS_OP_C = 2 };
enum : int { CUDA_R_32F = 0, CUDA_R_16BF = 14 };
enum : int { CUBLAS_COMPUTE_32F = 68 };
enum : int { CUBLAS_GEMM_DEFAULT = -1, CUBLAS_GEMM_DEFAULT_TENSOR_OP = 99 };

constexpr unsigned kMagic = 0xc0b1a5u;

struct Handle {
    unsigned magic;
    void *stream;
};

bool valid(const Handle *h) { return h != nullptr && h->magic == kMagic; }

float bits_to_float(uint32_t u) {
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

uint32_t float_to_bits(float f) {
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    return u;
}

float load(const void *p, int type, int64_t i) {
    if (type == CUDA_R_16BF) {
        uint16_t h;
        memcpy(&h, static_cast<const char *>(p) + 2 * i, 2);
        return bits_to_float((uint32_t)h << 16); // exact
    }
    return static_cast<const float *>(p)[i];
}

// The bf16 nearest to d, ties to even, overflow to infinity; one rounding (not through f32). A NaN keeps its sign.
uint16_t bf16_rn(double d) {
    const uint16_t sign = signbit(d) ? 0x8000 : 0;
    const double a = fabs(d);
    if (isnan(a)) return sign | 0x7fc0;
    if (isinf(a)) return sign | 0x7f80;
    float f = (float)a;                         // nearest float, maybe above a
    if ((double)f > a) f = nextafterf(f, 0.0f); // the largest float <= a (FLT_MAX when a overflows)
    const uint32_t lo = float_to_bits(f) & 0xffff0000u, hi = lo + 0x10000u; // bf16 neighbours (hi may be inf)
    // hi as a number: infinity stands for 2^128, the next power of two, so that the largest finite bf16 plus half
    // an ulp and more round to infinity. Both halves and their sum are exact in double.
    const double hi_value = hi == 0x7f800000u ? ldexp(1.0, 128) : (double)bits_to_float(hi);
    const double mid = ((double)bits_to_float(lo) + hi_value) / 2;
    uint32_t r = a < mid ? lo : a > mid ? hi : ((lo >> 16) & 1u ? hi : lo);
    return sign | (uint16_t)(r >> 16);
}

void store(void *p, int type, int64_t i, double v) {
    if (type == CUDA_R_16BF) {
        const uint16_t h = bf16_rn(v);
        memcpy(static_cast<char *>(p) + 2 * i, &h, 2);
    } else {
        static_cast<float *>(p)[i] = (float)v;
    }
}

// A rows x cols column-major matrix with leading dimension ld lies within one device block.
bool on_device(const char *what, const void *p, int type, int64_t rows, int64_t cols, int64_t ld) {
    const int64_t need = ((cols - 1) * ld + rows) * (type == CUDA_R_16BF ? 2 : 4), have = sbc_emu_device_bytes(p);
    if (have >= need) return true;
    fprintf(stderr, "cublas_emu: %s (%p, %lld x %lld, ld %lld) needs %lld bytes of device memory, %s\n", what, p,
            (long long)rows, (long long)cols, (long long)ld, (long long)need,
            have < 0 ? "is in no cudaMalloc block" : "its block has fewer");
    return false;
}

// C = alpha·op(A)·op(B) + beta·C, column-major, after the argument checks cuBLAS makes.
int gemm(const Handle *h, int transa, int transb, int m, int n, int k, const float *alpha, const void *a, int atype,
         int lda, const void *b, int btype, int ldb, const float *beta, void *c, int ctype, int ldc) {
    if (!valid(h)) return CUBLAS_STATUS_NOT_INITIALIZED;
    const bool ta_ok = transa == CUBLAS_OP_N || transa == CUBLAS_OP_T || transa == CUBLAS_OP_C;
    const bool tb_ok = transb == CUBLAS_OP_N || transb == CUBLAS_OP_T || transb == CUBLAS_OP_C;
    const int64_t a_rows = transa == CUBLAS_OP_N ? m : k, b_rows = transb == CUBLAS_OP_N ? k : n;
    if (!ta_ok || !tb_ok || m < 0 || n < 0 || k < 0 || lda < (a_rows > 1 ? a_rows : 1) ||
        ldb < (b_rows > 1 ? b_rows : 1) || ldc < (m > 1 ? m : 1))
        return CUBLAS_STATUS_INVALID_VALUE;
    if (m == 0 || n == 0) return CUBLAS_STATUS_SUCCESS;
    if (alpha == nullptr || beta == nullptr || c == nullptr || (k > 0 && (a == nullptr || b == nullptr)))
        return CUBLAS_STATUS_INVALID_VALUE;
    if (sbc_emu_device_bytes(alpha) >= 0 || sbc_emu_device_bytes(beta) >= 0) {
        fprintf(stderr, "cublas_emu: alpha (%p) or beta (%p) is in device memory, read as a host pointer\n",
                (const void *)alpha, (const void *)beta);
        return CUBLAS_STATUS_EXECUTION_FAILED;
    }
    const int64_t a_cols = transa == CUBLAS_OP_N ? k : m, b_cols = transb == CUBLAS_OP_N ? n : k;
    if ((k > 0 && (!on_device("A", a, atype, a_rows, a_cols, lda) || !on_device("B", b, btype, b_rows, b_cols, ldb))) ||
        !on_device("C", c, ctype, m, n, ldc))
        return CUBLAS_STATUS_EXECUTION_FAILED;
    const double al = *alpha, be = *beta;
    for (int64_t j = 0; j < n; j++) {
        for (int64_t i = 0; i < m; i++) {
            double acc = 0;
            if (al != 0) {
                for (int64_t l = 0; l < k; l++) {
                    // op(A)[i, l] and op(B)[l, j], column-major: element (r, q) of X is X[r + q * ldx].
                    const float av = load(a, atype, transa == CUBLAS_OP_N ? i + l * lda : l + i * lda);
                    const float bv = load(b, btype, transb == CUBLAS_OP_N ? l + j * ldb : j + l * ldb);
                    acc += (double)av * bv; // exact: a product of two floats fits a double
                }
            }
            const int64_t ci = i + j * ldc;
            // beta == 0: C is not read (a NaN there does not propagate), as BLAS specifies.
            const double prior = be == 0 ? 0 : be * load(c, ctype, ci);
            store(c, ctype, ci, al * acc + prior);
        }
    }
    return CUBLAS_STATUS_SUCCESS;
}

} // namespace

CUBLAS_EMU_API int cublasCreate_v2(void **handle) {
    if (handle == nullptr) return CUBLAS_STATUS_INVALID_VALUE;
    *handle = new Handle{kMagic, nullptr};
    return CUBLAS_STATUS_SUCCESS;
}

CUBLAS_EMU_API int cublasDestroy_v2(void *handle) {
    Handle *h = static_cast<Handle *>(handle);
    if (!valid(h)) return CUBLAS_STATUS_NOT_INITIALIZED;
    h->magic = 0;
    delete h;
    return CUBLAS_STATUS_SUCCESS;
}

// The stream is remembered only: the emulated device runs everything at once, in call order.
CUBLAS_EMU_API int cublasSetStream_v2(void *handle, void *stream) {
    Handle *h = static_cast<Handle *>(handle);
    if (!valid(h)) return CUBLAS_STATUS_NOT_INITIALIZED;
    h->stream = stream;
    return CUBLAS_STATUS_SUCCESS;
}

CUBLAS_EMU_API int cublasSgemm_v2(void *handle, int transa, int transb, int m, int n, int k, const float *alpha,
                                  const float *a, int lda, const float *b, int ldb, const float *beta, float *c,
                                  int ldc) {
    return gemm(static_cast<const Handle *>(handle), transa, transb, m, n, k, alpha, a, CUDA_R_32F, lda, b,
                CUDA_R_32F, ldb, beta, c, CUDA_R_32F, ldc);
}

// The forms Java uses: f32 x f32 -> f32, bf16 x bf16 -> bf16 or f32, with CUBLAS_COMPUTE_32F (alpha and beta are
// floats) and the default algorithm.
CUBLAS_EMU_API int cublasGemmEx(void *handle, int transa, int transb, int m, int n, int k, const void *alpha,
                                const void *a, int atype, int lda, const void *b, int btype, int ldb,
                                const void *beta, void *c, int ctype, int ldc, int compute_type, int algo) {
    const Handle *h = static_cast<const Handle *>(handle);
    if (!valid(h)) return CUBLAS_STATUS_NOT_INITIALIZED;
    const auto known = [](int t) { return t == CUDA_R_32F || t == CUDA_R_16BF; };
    if (compute_type != CUBLAS_COMPUTE_32F || !known(atype) || !known(btype) || !known(ctype))
        return CUBLAS_STATUS_INVALID_VALUE;
    if (atype != btype || (atype == CUDA_R_32F && ctype != CUDA_R_32F) ||
        (algo != CUBLAS_GEMM_DEFAULT && algo != CUBLAS_GEMM_DEFAULT_TENSOR_OP))
        return CUBLAS_STATUS_NOT_SUPPORTED;
    return gemm(h, transa, transb, m, n, k, static_cast<const float *>(alpha), a, atype, lda, b, btype, ldb,
                static_cast<const float *>(beta), c, ctype, ldc);
}
