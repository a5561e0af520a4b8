// Row and column operations on contiguous row-major matrices (native/src/matrix_ops.c).
//  - scale_rows, scale_cols, transpose: exact (one rounded product, or a copy).
//  - col_dot: one thread per column adding the rows in order in double, as the C code does: exact.
//  - row_norm: one block per row, a double tree sum: within double rounding of the C result before the final
//    rounding to float.
#include "sbc_internal.cuh"

using namespace sbc;

namespace {

__global__ void row_norm_kernel(const float *__restrict__ x, int64_t rows, int64_t cols, float *__restrict__ out) {
    __shared__ double scratch[33];
    for (int64_t i = blockIdx.x; i < rows; i += gridDim.x) { // block-uniform loop: block_sum is reached by all
        const float *xr = x + i * cols;
        double s = 0.0;
        for (int64_t j = threadIdx.x; j < cols; j += blockDim.x) s += (double)xr[j] * (double)xr[j];
        s = block_sum(s, scratch);
        if (threadIdx.x == 0) out[i] = (float)sqrt(s);
    }
}

__global__ void scale_rows_kernel(const float *x, int64_t rows, int64_t cols, const float *s, float *out) {
    const int64_t total = rows * cols;
    for (int64_t e = global_id(); e < total; e += global_stride()) out[e] = __fmul_rn(x[e], s[e / cols]);
}

__global__ void scale_cols_kernel(const float *x, int64_t rows, int64_t cols, const float *s, float *out) {
    const int64_t total = rows * cols;
    for (int64_t e = global_id(); e < total; e += global_stride()) out[e] = __fmul_rn(x[e], s[e % cols]);
}

// One thread per column; consecutive threads read consecutive columns of a row (coalesced). The rows are added in
// order, exactly as the C loop does, so the result is the CPU's bit for bit (products of floats are exact in double).
__global__ void col_dot_kernel(const float *__restrict__ a, const float *__restrict__ b, int64_t rows, int64_t cols,
                               float *__restrict__ out) {
    for (int64_t j = global_id(); j < cols; j += global_stride()) {
        double acc = 0.0;
#pragma unroll 8
        for (int64_t i = 0; i < rows; i++) acc += (double)a[i * cols + j] * (double)b[i * cols + j];
        out[j] = (float)acc;
    }
}

constexpr int kTile = 32, kTileRows = 8;

// 32 x 32 tiles through shared memory (padded against bank conflicts); the grid strides over tiles.
__global__ void transpose_kernel(const float *__restrict__ x, int64_t rows, int64_t cols, float *__restrict__ out) {
    __shared__ float tile[kTile][kTile + 1];
    const int64_t tile_rows = (rows + kTile - 1) / kTile, tile_cols = (cols + kTile - 1) / kTile;
    for (int64_t t = blockIdx.x; t < tile_rows * tile_cols; t += gridDim.x) { // block-uniform
        const int64_t i0 = (t / tile_cols) * kTile, j0 = (t % tile_cols) * kTile;
        for (int k = threadIdx.y; k < kTile; k += kTileRows) {
            const int64_t i = i0 + k, j = j0 + threadIdx.x;
            if (i < rows && j < cols) tile[k][threadIdx.x] = x[i * cols + j];
        }
        __syncthreads();
        for (int k = threadIdx.y; k < kTile; k += kTileRows) {
            const int64_t j = j0 + k, i = i0 + threadIdx.x; // out[j, i] = x[i, j]
            if (i < rows && j < cols) out[j * rows + i] = tile[threadIdx.x][k];
        }
        __syncthreads();
    }
}

} // namespace

extern "C" int sbc_row_norm(const float *x, int64_t rows, int64_t cols, float *out, void *stream) {
    SBC_CHECK(rows >= 0 && cols >= 0);
    if (rows == 0) return SBC_OK;
    SBC_CHECK(x != nullptr && out != nullptr);
    const unsigned grid = (unsigned)(rows < kMaxBlocks ? rows : kMaxBlocks);
    row_norm_kernel<<<grid, kThreads, 0, as_stream(stream)>>>(x, rows, cols, out);
    return launched();
}

extern "C" int sbc_scale_rows(const float *x, int64_t rows, int64_t cols, const float *s, float *out, void *stream) {
    SBC_CHECK(rows >= 0 && cols >= 0);
    if (rows == 0 || cols == 0) return SBC_OK;
    SBC_CHECK(x != nullptr && s != nullptr && out != nullptr);
    scale_rows_kernel<<<grid_for(rows * cols), kThreads, 0, as_stream(stream)>>>(x, rows, cols, s, out);
    return launched();
}

extern "C" int sbc_scale_cols(const float *x, int64_t rows, int64_t cols, const float *s, float *out, void *stream) {
    SBC_CHECK(rows >= 0 && cols >= 0);
    if (rows == 0 || cols == 0) return SBC_OK;
    SBC_CHECK(x != nullptr && s != nullptr && out != nullptr);
    scale_cols_kernel<<<grid_for(rows * cols), kThreads, 0, as_stream(stream)>>>(x, rows, cols, s, out);
    return launched();
}

extern "C" int sbc_col_dot(const float *a, const float *b, int64_t rows, int64_t cols, float *out, void *stream) {
    SBC_CHECK(rows >= 0 && cols >= 0);
    if (cols == 0) return SBC_OK;
    SBC_CHECK(a != nullptr && b != nullptr && out != nullptr);
    // Small blocks: the work is only `cols` threads, spread them over as many multiprocessors as possible.
    constexpr int threads = 64;
    col_dot_kernel<<<grid_for(cols, threads), threads, 0, as_stream(stream)>>>(a, b, rows, cols, out);
    return launched();
}

extern "C" int sbc_transpose(const float *x, int64_t rows, int64_t cols, float *out, void *stream) {
    SBC_CHECK(rows >= 0 && cols >= 0);
    if (rows == 0 || cols == 0) return SBC_OK;
    SBC_CHECK(x != nullptr && out != nullptr);
    const int64_t tiles = ((rows + kTile - 1) / kTile) * ((cols + kTile - 1) / kTile);
    const unsigned grid = (unsigned)(tiles < kMaxBlocks ? tiles : kMaxBlocks);
    transpose_kernel<<<grid, dim3(kTile, kTileRows), 0, as_stream(stream)>>>(x, rows, cols, out);
    return launched();
}
