// The fused SBoRA GEMMs (sbora_cuda.h, "fused SBoRA GEMMs"): a tiled GEMM whose A-tile loads gather columns
// through idx (sbc_gather_gemm) or whose C stores scatter columns through idx (sbc_gemm_scatter), so that neither
// x[:, idx] nor the T x r product goes through global memory between two kernels.
//
// One kernel template serves both. A block computes a BM x 64 tile of the (virtual) product with 256 threads in a
// 16 x 16 grid; thread (ty, tx) owns rows ty + 16*i and columns tx + 16*j of the tile, so that the C loads and
// stores of a warp fall on consecutive columns (coalesced, or one scatter of 16 columns). K advances 16 at a time
// through shared memory: A transposed (As[k][row]: a warp reads one broadcast row value and 16 consecutive B
// values per step, no bank conflicts), F as Bs[k][col]. Sums are plain f32 FMAs; c is read, added to once and
// rounded once to its type. The trained factor f is f32 and is rounded to bf16 on load when the activations are
// bf16, so a bf16 run multiplies bf16 by bf16 like cuBLAS's bf16 GEMM would, accumulating in f32.
//
// This is the SIMT form (CUDA cores), used for f32 (whose tests want f32 products, not TF32). bf16 goes to the
// tensor-core form in fused_gemm_tc.cuh; the caller's SBC_KERNEL_SIMT sends bf16 here too, so that the GPU
// benchmark can compare the two. The adapter GEMMs are thin (one side is r <= a few hundred): the work is mostly
// reading and writing the T x n output.
#include "fused_gemm_tc.cuh"
#include "sbc_internal.cuh"


using namespace sbc;

namespace {

constexpr int kBN = 64;      // tile columns
constexpr int kBK = 16;      // k step
constexpr int kTile = 16;    // threads per tile side (16 x 16 = 256)

// The factor's value as the multiply sees it: f32 as is; against bf16 activations, rounded to bf16.
template <typename T>
__device__ __forceinline__ float factor_value(float v) { return v; }
template <>
__device__ __forceinline__ float factor_value<__nv_bfloat16>(float v) {
    return __uint_as_float((unsigned)bf16_bits_rn(v) << 16);
}

// C[i, ccol(j)] += alpha * sum_k A[i, acol(k)] * F(k, j), i < m, j < n, k < kdim.
//   GATHER: acol(k) = idx[k], ccol(j) = j, and the first column block writes A[:, idx] to xs (when not null);
//   otherwise acol(k) = k, ccol(j) = idx[j] (the scatter).
//   F(k, j) = f[j * ldf + k] when trans_f, else f[k * ldf + j].
template <typename T, bool GATHER, int BM>
__global__ void __launch_bounds__(256) sbora_gemm_kernel(const T *__restrict__ a, int64_t lda,
                                                         const int32_t *__restrict__ idx, const float *__restrict__ f,
                                                         int64_t ldf, int trans_f, int64_t m, int64_t n, int64_t kdim,
                                                         float alpha, T *c, int64_t ldc, T *xs, int64_t ldxs,
                                                         const int *fault) {
    if (*fault) return; // an index is out of range (check_indices): block-uniform, touch nothing
    constexpr int TM = BM / kTile; // rows per thread
    constexpr int TN = kBN / kTile; // columns per thread
    __shared__ float As[kBK][BM + 1];
    __shared__ float Bs[kBK][kBN];

    const int tid = threadIdx.x, tx = tid % kTile, ty = tid / kTile;
    const int64_t m0 = (int64_t)blockIdx.x * BM, n0 = (int64_t)blockIdx.y * kBN;
    const bool write_xs = GATHER && xs != nullptr && blockIdx.y == 0;

    float acc[TM][TN];
#pragma unroll
    for (int i = 0; i < TM; i++)
#pragma unroll
        for (int j = 0; j < TN; j++) acc[i][j] = 0.0f;

    for (int64_t k0 = 0; k0 < kdim; k0 += kBK) {
        // A tile (BM x kBK): consecutive threads take consecutive k of one row, so the loads of a plain A are
        // coalesced; a gathered A touches one sector per element whatever the order.
#pragma unroll
        for (int e = tid; e < BM * kBK; e += 256) {
            const int row = e / kBK, kk = e % kBK;
            const int64_t gi = m0 + row, gk = k0 + kk;
            float v = 0.0f;
            if (gi < m && gk < kdim) {
                const int64_t col = GATHER ? (int64_t)idx[gk] : gk;
                const T *p = a + gi * lda + col;
                v = load_f32(p);
                if (write_xs) xs[gi * ldxs + gk] = *p;
            }
            As[kk][row] = v;
        }
        // F tile (kBK x kBN), read along its contiguous dimension.
#pragma unroll
        for (int e = tid; e < kBK * kBN; e += 256) {
            int kk, col;
            if (trans_f) {
                kk = e % kBK;
                col = e / kBK;
            } else {
                col = e % kBN;
                kk = e / kBN;
            }
            const int64_t gk = k0 + kk, gj = n0 + col;
            float v = 0.0f;
            if (gk < kdim && gj < n) v = factor_value<T>(trans_f ? f[gj * ldf + gk] : f[gk * ldf + gj]);
            Bs[kk][col] = v;
        }
        __syncthreads();
#pragma unroll
        for (int kk = 0; kk < kBK; kk++) {
            float av[TM], bv[TN];
#pragma unroll
            for (int i = 0; i < TM; i++) av[i] = As[kk][ty + kTile * i];
#pragma unroll
            for (int j = 0; j < TN; j++) bv[j] = Bs[kk][tx + kTile * j];
#pragma unroll
            for (int i = 0; i < TM; i++)
#pragma unroll
                for (int j = 0; j < TN; j++) acc[i][j] = fmaf(av[i], bv[j], acc[i][j]);
        }
        __syncthreads();
    }

#pragma unroll
    for (int i = 0; i < TM; i++) {
        const int64_t gi = m0 + ty + kTile * i;
        if (gi >= m) continue;
#pragma unroll
        for (int j = 0; j < TN; j++) {
            const int64_t gj = n0 + tx + kTile * j;
            if (gj >= n) continue;
            const int64_t col = GATHER ? gj : (int64_t)idx[gj];
            T *p = c + gi * ldc + col;
            store_f32(p, __fadd_rn(load_f32(p), __fmul_rn(alpha, acc[i][j])));
        }
    }
}

template <typename T, bool GATHER, int BM>
int launch(const void *a, int64_t lda, const int32_t *idx, const float *f, int64_t ldf, int trans_f, int64_t m,
           int64_t n, int64_t kdim, float alpha, void *c, int64_t ldc, void *xs, int64_t ldxs, void *stream,
           const int *fault) {
    // At least one column block: with n == 0 the gather still writes xs (every C store is skipped).
    const int64_t mb = (m + BM - 1) / BM, nb = n == 0 ? 1 : (n + kBN - 1) / kBN;
    SBC_CHECK(mb <= 0x7fffffff && nb <= 65535);
    const dim3 grid((unsigned)mb, (unsigned)nb);
    sbora_gemm_kernel<T, GATHER, BM><<<grid, 256, 0, as_stream(stream)>>>(
        (const T *)a, lda, idx, f, ldf, trans_f, m, n, kdim, alpha, (T *)c, ldc, (T *)xs, ldxs, fault);
    return launched();
}

// Thin products (few output columns) get shorter row tiles, so that there are enough blocks to keep the GPU busy.
template <typename T, bool GATHER>
int dispatch_tile(const void *a, int64_t lda, const int32_t *idx, const float *f, int64_t ldf, int trans_f, int64_t m,
                  int64_t n, int64_t kdim, float alpha, void *c, int64_t ldc, void *xs, int64_t ldxs, void *stream,
           const int *fault) {
    if (n <= kBN) {
        return launch<T, GATHER, 32>(a, lda, idx, f, ldf, trans_f, m, n, kdim, alpha, c, ldc, xs, ldxs, stream, fault);
    }
    return launch<T, GATHER, 64>(a, lda, idx, f, ldf, trans_f, m, n, kdim, alpha, c, ldc, xs, ldxs, stream, fault);
}

template <bool GATHER>
int dispatch(int type, const void *a, int64_t lda, const int32_t *idx, const float *f, int64_t ldf, int trans_f,
             int64_t m, int64_t n, int64_t kdim, float alpha, void *c, int64_t ldc, void *xs, int64_t ldxs,
             int kernel, void *stream, const int *fault) {
    if (type == SBC_F32) {
        return dispatch_tile<float, GATHER>(a, lda, idx, f, ldf, trans_f, m, n, kdim, alpha, c, ldc, xs, ldxs,
                                            stream, fault);
    }
    if (kernel == SBC_KERNEL_SIMT) {
        return dispatch_tile<__nv_bfloat16, GATHER>(a, lda, idx, f, ldf, trans_f, m, n, kdim, alpha, c, ldc, xs,
                                                    ldxs, stream, fault);
    }
    return launch_tc<GATHER>(a, lda, idx, f, ldf, trans_f, m, n, kdim, alpha, c, ldc, xs, ldxs, stream, fault);
}

} // namespace

extern "C" int sbc_gather_gemm(int type, const void *x, int64_t m, int64_t ldx, const int32_t *idx, int64_t r,
                               const float *f, int64_t ldf, int trans_f, int64_t n, float alpha, void *c, int64_t ldc,
                               void *xs, int64_t ldxs, int kernel, void *stream) {
    SBC_CHECK(type == SBC_F32 || type == SBC_BF16);
    SBC_CHECK(kernel == SBC_KERNEL_AUTO || kernel == SBC_KERNEL_SIMT);
    SBC_CHECK(m >= 0 && r >= 0 && n >= 0 && ldc >= n && ldf >= (trans_f ? r : n));
    SBC_CHECK(xs == nullptr || ldxs >= r);
    if (m == 0 || r == 0) return SBC_OK; // nothing to add, and x[:, idx] of no columns is empty
    SBC_CHECK(x != nullptr && idx != nullptr && f != nullptr && ldx >= 1);
    SBC_CHECK(n == 0 || c != nullptr);
    if (n == 0 && xs == nullptr) return SBC_OK;
    const int *fault;
    const int checked = check_indices(idx, r, ldx, false, 0, as_stream(stream), &fault); // as sb_gather_gemm
    if (checked != SBC_OK) return checked;
    return dispatch<true>(type, x, ldx, idx, f, ldf, trans_f, m, n, r, alpha, c, ldc, xs, ldxs, kernel, stream,
                          fault);
}

extern "C" int sbc_gemm_scatter(int type, const void *a, int64_t m, int64_t kdim, int64_t lda, const float *f,
                                int64_t ldf, int trans_f, const int32_t *idx, int64_t r, float alpha, void *c,
                                int64_t ldc, int kernel, void *stream) {
    SBC_CHECK(type == SBC_F32 || type == SBC_BF16);
    SBC_CHECK(kernel == SBC_KERNEL_AUTO || kernel == SBC_KERNEL_SIMT);
    SBC_CHECK(m >= 0 && kdim >= 0 && r >= 0 && lda >= kdim && ldf >= (trans_f ? kdim : r) && ldc >= 1);
    if (m == 0 || r == 0) return SBC_OK;
    SBC_CHECK(c != nullptr && idx != nullptr);
    if (kdim == 0) return SBC_OK; // an empty sum adds nothing
    SBC_CHECK(a != nullptr && f != nullptr);
    const int *fault;
    const int checked = check_indices(idx, r, ldc, false, 0, as_stream(stream), &fault); // as sb_gemm_scatter
    if (checked != SBC_OK) return checked;
    return dispatch<false>(type, a, lda, idx, f, ldf, trans_f, m, r, kdim, alpha, c, ldc, nullptr, 0, kernel, stream,
                           fault);
}
