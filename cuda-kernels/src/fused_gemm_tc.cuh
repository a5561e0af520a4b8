// The tensor-core form of the fused SBoRA GEMMs for bf16 activations (included by fused_gemm.cu, which documents
// the contract): the same gather-on-load / scatter-on-store tile loop as the SIMT kernel there, with the multiply
// done by warp-level bf16 MMAs (nvcuda::wmma, 16 x 16 x 16, f32 accumulators).
//
// A block of 128 threads (4 warps, 2 x 2) computes a BM x 64 tile; each warp a (BM/2) x 32 quarter as FM x 2
// fragments (FM = 2: 64-row tiles; FM = 1: 32-row tiles for thin outputs, so that a 4096-token, r = 64 scatter
// still has 128 blocks to spread over the GPU). K advances 32 at a time through shared memory, both tiles stored row-major as bf16 with 8 elements
// of padding per row (wmma wants a leading dimension that is a multiple of 8 elements; the padding spreads the
// rows over the banks). Out-of-range rows, columns and k are loaded as zeros, so any m, n and k work. The
// accumulators go through a per-warp 16 x 16 f32 staging tile in shared memory to the epilogue, which adds alpha
// times them into c (through idx for the scatter) with one bf16 rounding per element, 16 consecutive columns per
// half-warp.
#ifndef SBC_FUSED_GEMM_TC_CUH
#define SBC_FUSED_GEMM_TC_CUH

#include "sbc_internal.cuh"

#include <mma.h>

namespace sbc {

constexpr int kTcBN = 64, kTcBK = 32, kTcThreads = 128;
constexpr int kTcPad = 8;

template <bool GATHER, int FM>
__global__ void __launch_bounds__(kTcThreads)
    sbora_gemm_tc_kernel(const __nv_bfloat16 *__restrict__ a, int64_t lda, const int32_t *__restrict__ idx,
                         const float *__restrict__ f, int64_t ldf, int trans_f, int64_t m, int64_t n, int64_t kdim,
                         float alpha, __nv_bfloat16 *c, int64_t ldc, __nv_bfloat16 *xs, int64_t ldxs,
                         const int *fault) {
    if (*fault) return; // see sbora_gemm_kernel
    using namespace nvcuda;
    constexpr int kTcBM = 32 * FM;
    __shared__ __align__(32) __nv_bfloat16 As[kTcBM][kTcBK + kTcPad];
    __shared__ __align__(32) __nv_bfloat16 Bs[kTcBK][kTcBN + kTcPad];
    __shared__ __align__(32) float stage[kTcThreads / 32][16 * 16];

    const int tid = threadIdx.x, warp = tid / 32, lane = tid % 32;
    const int wm = warp / 2, wn = warp % 2; // the warp's (BM/2) x 32 quarter of the tile
    const int64_t m0 = (int64_t)blockIdx.x * kTcBM, n0 = (int64_t)blockIdx.y * kTcBN;
    const bool write_xs = GATHER && xs != nullptr && blockIdx.y == 0;

    wmma::fragment<wmma::accumulator, 16, 16, 16, float> acc[FM][2];
#pragma unroll
    for (int i = 0; i < FM; i++)
#pragma unroll
        for (int j = 0; j < 2; j++) wmma::fill_fragment(acc[i][j], 0.0f);

    for (int64_t k0 = 0; k0 < kdim; k0 += kTcBK) {
        // A tile (64 x 32 bf16): consecutive threads on consecutive k of a row.
        for (int e = tid; e < kTcBM * kTcBK; e += kTcThreads) {
            const int row = e / kTcBK, kk = e % kTcBK;
            const int64_t gi = m0 + row, gk = k0 + kk;
            __nv_bfloat16 v = __ushort_as_bfloat16((unsigned short)0);
            if (gi < m && gk < kdim) {
                const int64_t col = GATHER ? (int64_t)idx[gk] : gk;
                v = a[gi * lda + col];
                if (write_xs) xs[gi * ldxs + gk] = v;
            }
            As[row][kk] = v;
        }
        // F tile (32 x 64), f32 rounded to bf16, read along f's contiguous dimension.
        for (int e = tid; e < kTcBK * kTcBN; e += kTcThreads) {
            int kk, col;
            if (trans_f) {
                kk = e % kTcBK;
                col = e / kTcBK;
            } else {
                col = e % kTcBN;
                kk = e / kTcBN;
            }
            const int64_t gk = k0 + kk, gj = n0 + col;
            unsigned short bits = 0;
            if (gk < kdim && gj < n) bits = bf16_bits_rn(trans_f ? f[gj * ldf + gk] : f[gk * ldf + gj]);
            Bs[kk][col] = __ushort_as_bfloat16(bits);
        }
        __syncthreads();
#pragma unroll
        for (int kk = 0; kk < kTcBK; kk += 16) {
            wmma::fragment<wmma::matrix_a, 16, 16, 16, __nv_bfloat16, wmma::row_major> fa[FM];
            wmma::fragment<wmma::matrix_b, 16, 16, 16, __nv_bfloat16, wmma::row_major> fb[2];
#pragma unroll
            for (int i = 0; i < FM; i++) {
                wmma::load_matrix_sync(fa[i], &As[wm * 16 * FM + i * 16][kk], kTcBK + kTcPad);
            }
#pragma unroll
            for (int j = 0; j < 2; j++) wmma::load_matrix_sync(fb[j], &Bs[kk][wn * 32 + j * 16], kTcBN + kTcPad);
#pragma unroll
            for (int i = 0; i < FM; i++)
#pragma unroll
                for (int j = 0; j < 2; j++) wmma::mma_sync(acc[i][j], fa[i], fb[j], acc[i][j]);
        }
        __syncthreads();
    }

    float *st = stage[warp];
#pragma unroll
    for (int i = 0; i < FM; i++) {
#pragma unroll
        for (int j = 0; j < 2; j++) {
            wmma::store_matrix_sync(st, acc[i][j], 16, wmma::mem_row_major);
            __syncwarp();
            for (int e = lane; e < 256; e += 32) {
                const int64_t gi = m0 + wm * 16 * FM + i * 16 + e / 16, gj = n0 + wn * 32 + j * 16 + e % 16;
                if (gi < m && gj < n) {
                    const int64_t col = GATHER ? gj : (int64_t)idx[gj];
                    __nv_bfloat16 *p = c + gi * ldc + col;
                    store_f32(p, __fadd_rn(load_f32(p), __fmul_rn(alpha, st[e])));
                }
            }
            __syncwarp(); // the staging tile is rewritten by the next fragment
        }
    }
}

template <bool GATHER, int FM>
int launch_tc_tile(const void *a, int64_t lda, const int32_t *idx, const float *f, int64_t ldf, int trans_f, int64_t m,
              int64_t n, int64_t kdim, float alpha, void *c, int64_t ldc, void *xs, int64_t ldxs, void *stream,
           const int *fault) {
    constexpr int kTcBM = 32 * FM;
    const int64_t mb = (m + kTcBM - 1) / kTcBM, nb = n == 0 ? 1 : (n + kTcBN - 1) / kTcBN;
    SBC_CHECK(mb <= 0x7fffffff && nb <= 65535);
    const dim3 grid((unsigned)mb, (unsigned)nb);
    sbora_gemm_tc_kernel<GATHER, FM><<<grid, kTcThreads, 0, as_stream(stream)>>>(
        (const __nv_bfloat16 *)a, lda, idx, f, ldf, trans_f, m, n, kdim, alpha, (__nv_bfloat16 *)c, ldc,
        (__nv_bfloat16 *)xs, ldxs, fault);
    return launched();
}

template <bool GATHER>
int launch_tc(const void *a, int64_t lda, const int32_t *idx, const float *f, int64_t ldf, int trans_f, int64_t m,
              int64_t n, int64_t kdim, float alpha, void *c, int64_t ldc, void *xs, int64_t ldxs, void *stream,
           const int *fault) {
    if (n <= kTcBN) {
        return launch_tc_tile<GATHER, 1>(a, lda, idx, f, ldf, trans_f, m, n, kdim, alpha, c, ldc, xs, ldxs, stream,
                                         fault);
    }
    return launch_tc_tile<GATHER, 2>(a, lda, idx, f, ldf, trans_f, m, n, kdim, alpha, c, ldc, xs, ldxs, stream,
                                     fault);
}

} // namespace sbc

#endif
