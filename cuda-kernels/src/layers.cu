// Row-wise layers of a LLaMA block (native/src/model_ops.c): RMSNorm, rotary embeddings, the SwiGLU gate.
//  - rope: exact (rounded products and sums in the C order).
//  - rmsnorm: the double sum of squares (and of dy*w*xhat) is a tree sum here, an unrolled one on the CPU: within
//    double rounding before the rounding to float, so rstd and y nearly always match bit for bit; dw adds the rows
//    in order like the C code and is exact given rstd.
//  - silu_mul: CUDA's expf differs from glibc's by an ulp or two at times: within float rounding.
#include "sbc_internal.cuh"

using namespace sbc;

namespace {

// One block per row (block-uniform loop, so every thread reaches block_sum). y may alias x: each thread reads its
// own elements before writing them.
__global__ void rmsnorm_forward_kernel(const float *x, const float *__restrict__ w, int64_t rows, int64_t n, float eps,
                                       float *y, float *__restrict__ rstd) {
    __shared__ double scratch[33];
    for (int64_t i = blockIdx.x; i < rows; i += gridDim.x) {
        const float *xr = x + i * n;
        float *yr = y + i * n;
        double ss = 0.0;
        for (int64_t j = threadIdx.x; j < n; j += blockDim.x) ss += (double)xr[j] * (double)xr[j];
        ss = block_sum(ss, scratch);
        const float r = (float)__ddiv_rn(1.0, __dsqrt_rn(__dadd_rn(__ddiv_rn(ss, (double)n), (double)eps)));
        if (threadIdx.x == 0) rstd[i] = r;
        for (int64_t j = threadIdx.x; j < n; j += blockDim.x) yr[j] = __fmul_rn(w[j], __fmul_rn(xr[j], r));
    }
}

// dx[i,:] = rstd*(dy*w - xhat*mean(dy*w*xhat)), one block per row.
__global__ void rmsnorm_dx_kernel(const float *x, const float *__restrict__ w, const float *__restrict__ rstd,
                                  const float *dy, int64_t rows, int64_t n, float *dx) {
    __shared__ double scratch[33];
    for (int64_t i = blockIdx.x; i < rows; i += gridDim.x) {
        const float *xr = x + i * n, *dyr = dy + i * n;
        float *dxr = dx + i * n;
        const float r = rstd[i];
        double dot = 0.0;
        for (int64_t j = threadIdx.x; j < n; j += blockDim.x)
            dot += (double)__fmul_rn(dyr[j], w[j]) * (double)__fmul_rn(xr[j], r);
        dot = block_sum(dot, scratch);
        const float mean = (float)__ddiv_rn(dot, (double)n);
        for (int64_t j = threadIdx.x; j < n; j += blockDim.x)
            dxr[j] = __fmul_rn(r, __fsub_rn(__fmul_rn(dyr[j], w[j]), __fmul_rn(__fmul_rn(xr[j], r), mean)));
    }
}

// dw[j] = sum_i dy[i,j] * xhat[i,j]: one thread per column adding the rows in order in double, as the C code does.
// With rows == 0 it writes zeros, as the C code does.
__global__ void rmsnorm_dw_kernel(const float *x, const float *__restrict__ rstd, const float *dy, int64_t rows,
                                  int64_t n, float *dw) {
    for (int64_t j = global_id(); j < n; j += global_stride()) {
        double acc = 0.0;
#pragma unroll 8
        for (int64_t i = 0; i < rows; i++) acc += (double)dy[i * n + j] * (double)__fmul_rn(x[i * n + j], rstd[i]);
        dw[j] = (float)acc;
    }
}

// One thread per rotated pair (row i, head hd, j < h). Each thread reads both halves before writing them, so out
// may alias x. A position outside [0, max_pos) (which the launcher refuses before launching) reads no table: its
// pair becomes NaN.
__global__ void rope_kernel(const float *x, int64_t rows, int64_t heads, int64_t head_dim,
                            const int32_t *__restrict__ positions, const float *__restrict__ cos_table,
                            const float *__restrict__ sin_table, int64_t max_pos, float sign, float *out) {
    const int64_t h = head_dim / 2, per_row = heads * h, total = rows * per_row;
    for (int64_t e = global_id(); e < total; e += global_stride()) {
        const int64_t i = e / per_row, rem = e - i * per_row, hd = rem / h, j = rem - hd * h;
        const int64_t base = i * heads * head_dim + hd * head_dim + j;
        const int32_t pos = positions[i];
        if (pos < 0 || pos >= max_pos) {
            out[base] = out[base + h] = __int_as_float(0x7fc00000);
            continue;
        }
        const int64_t t = (int64_t)pos * h + j;
        const float c = cos_table[t], sj = __fmul_rn(sin_table[t], sign);
        const float a = x[base], b = x[base + h];
        out[base] = __fsub_rn(__fmul_rn(a, c), __fmul_rn(b, sj));
        out[base + h] = __fadd_rn(__fmul_rn(b, c), __fmul_rn(a, sj));
    }
}

// out = (g / (1 + exp(-g))) * u
__global__ void silu_mul_forward_kernel(const float *g, const float *u, int64_t n, float *out) {
    for (int64_t i = global_id(); i < n; i += global_stride()) {
        const float gi = g[i];
        out[i] = __fmul_rn(__fdiv_rn(gi, __fadd_rn(1.0f, expf(-gi))), u[i]);
    }
}

// du = dout * silu(g); dg = dout * u * (sig * (1 + g * (1 - sig))); either output may be NULL.
__global__ void silu_mul_backward_kernel(const float *g, const float *u, const float *dout, int64_t n, float *dg,
                                         float *du) {
    for (int64_t i = global_id(); i < n; i += global_stride()) {
        const float gi = g[i], ui = u[i], di = dout[i];
        const float sig = __fdiv_rn(1.0f, __fadd_rn(1.0f, expf(-gi)));
        const float silu = __fmul_rn(gi, sig);
        if (du != nullptr) du[i] = __fmul_rn(di, silu);
        if (dg != nullptr)
            dg[i] = __fmul_rn(__fmul_rn(di, ui), __fmul_rn(sig, __fadd_rn(1.0f, __fmul_rn(gi, __fsub_rn(1.0f, sig)))));
    }
}

unsigned row_grid(int64_t rows) { return (unsigned)(rows < kMaxBlocks ? rows : kMaxBlocks); }

// Whether every one of the rows positions lies in [0, max_pos), as sb_rope requires of its positions
// (sb_indices_in_range): the positions are copied to the host in chunks and read there, which waits for the stream.
// SBC_OK, SBC_ERR_INDEX, or the status of a failed copy.
int positions_in_range(const int32_t *positions, int64_t rows, int64_t max_pos, cudaStream_t stream) {
    constexpr int64_t kChunk = 4096;
    int32_t host[kChunk];
    for (int64_t lo = 0; lo < rows; lo += kChunk) {
        const int64_t n = rows - lo < kChunk ? rows - lo : kChunk;
        cudaError_t e =
            cudaMemcpyAsync(host, positions + lo, (size_t)n * sizeof(int32_t), cudaMemcpyDeviceToHost, stream);
        if (e == cudaSuccess) e = cudaStreamSynchronize(stream);
        if (e != cudaSuccess) return status(e);
        for (int64_t i = 0; i < n; i++) {
            if (host[i] < 0 || host[i] >= max_pos) return SBC_ERR_INDEX;
        }
    }
    return SBC_OK;
}

} // namespace

extern "C" int sbc_rmsnorm_forward(const float *x, const float *w, int64_t rows, int64_t n, float eps, float *y,
                                   float *rstd, void *stream) {
    SBC_CHECK(rows >= 0 && n > 0 && eps >= 0.0f);
    if (rows == 0) return SBC_OK;
    SBC_CHECK(x != nullptr && w != nullptr && y != nullptr && rstd != nullptr);
    rmsnorm_forward_kernel<<<row_grid(rows), kThreads, 0, as_stream(stream)>>>(x, w, rows, n, eps, y, rstd);
    return launched();
}

extern "C" int sbc_rmsnorm_backward(const float *x, const float *w, const float *rstd, const float *dy, int64_t rows,
                                    int64_t n, float *dx, float *dw, void *stream) {
    SBC_CHECK(rows >= 0 && n > 0);
    SBC_CHECK(x != nullptr && w != nullptr && rstd != nullptr && dy != nullptr);
    if (dx != nullptr && rows > 0) {
        rmsnorm_dx_kernel<<<row_grid(rows), kThreads, 0, as_stream(stream)>>>(x, w, rstd, dy, rows, n, dx);
        const int e = launched();
        if (e != SBC_OK) return e;
    }
    if (dw != nullptr) {
        constexpr int threads = 64; // only n threads of work: spread them over the multiprocessors
        rmsnorm_dw_kernel<<<grid_for(n, threads), threads, 0, as_stream(stream)>>>(x, rstd, dy, rows, n, dw);
        return launched();
    }
    return SBC_OK;
}

extern "C" int sbc_rope(const float *x, int64_t rows, int64_t heads, int64_t head_dim, const int32_t *positions,
                        const float *cos_table, const float *sin_table, int64_t max_pos, float sign, float *out,
                        void *stream) {
    SBC_CHECK(rows >= 0 && heads > 0 && head_dim > 0 && head_dim % 2 == 0 && max_pos > 0);
    if (rows == 0) return SBC_OK;
    SBC_CHECK(x != nullptr && positions != nullptr && cos_table != nullptr && sin_table != nullptr && out != nullptr);
    const int in_range = positions_in_range(positions, rows, max_pos, as_stream(stream));
    if (in_range != SBC_OK) return in_range;
    rope_kernel<<<grid_for(rows * heads * (head_dim / 2)), kThreads, 0, as_stream(stream)>>>(
        x, rows, heads, head_dim, positions, cos_table, sin_table, max_pos, sign, out);
    return launched();
}

extern "C" int sbc_silu_mul_forward(const float *g, const float *u, int64_t n, float *out, void *stream) {
    SBC_CHECK(n >= 0);
    if (n == 0) return SBC_OK;
    SBC_CHECK(g != nullptr && u != nullptr && out != nullptr);
    silu_mul_forward_kernel<<<grid_for(n), kThreads, 0, as_stream(stream)>>>(g, u, n, out);
    return launched();
}

extern "C" int sbc_silu_mul_backward(const float *g, const float *u, const float *dout, int64_t n, float *dg,
                                     float *du, void *stream) {
    SBC_CHECK(n >= 0);
    if (n == 0) return SBC_OK;
    SBC_CHECK(g != nullptr && u != nullptr && dout != nullptr);
    silu_mul_backward_kernel<<<grid_for(n), kThreads, 0, as_stream(stream)>>>(g, u, dout, n, dg, du);
    return launched();
}
