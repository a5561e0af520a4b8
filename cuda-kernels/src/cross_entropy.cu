// Softmax cross-entropy per row (native/src/model_ops.c). Rows whose target is ignore_index get loss 0 (their lse is
// still computed) and zero gradients. Targets are checked on the device (check_indices): one outside [0, vocab) that is
// not ignore_index makes both kernels do nothing, and is reported at the next sbc_take_index_fault.
//  - forward: the row max is exact; the sum of exp in double is a tree sum of CUDA's double exp: lse agrees with the
//    CPU within double rounding before its rounding to float (nearly always bit for bit), and loss = lse - z[t].
//  - backward: scale * expf(z - lse), with CUDA's expf: within an ulp or two.
#include "sbc_internal.cuh"

#include <math.h>

using namespace sbc;

namespace {

// One block per row; the loop over rows is block-uniform so that every thread reaches the block reductions.
__global__ void cross_entropy_forward_kernel(const float *__restrict__ logits, const int32_t *__restrict__ targets,
                                             int64_t rows, int64_t vocab, int32_t ignore_index,
                                             float *__restrict__ loss, float *__restrict__ lse, const int *fault) {
    if (*fault) return; // block-uniform: every thread of the block returns, no barrier is left waiting
    __shared__ float fscratch[33];
    __shared__ double dscratch[33];
    for (int64_t i = blockIdx.x; i < rows; i += gridDim.x) {
        const float *z = logits + i * vocab;
        float m = -INFINITY;
        for (int64_t j = threadIdx.x; j < vocab; j += blockDim.x) m = max_skip_nan(m, z[j]);
        m = block_max_skip_nan(m, -INFINITY, fscratch);
        double s = 0.0;
        for (int64_t j = threadIdx.x; j < vocab; j += blockDim.x) s += exp((double)__fsub_rn(z[j], m));
        s = block_sum(s, dscratch);
        if (threadIdx.x == 0) {
            const float l = __fadd_rn(m, (float)log(s));
            const int32_t t = targets[i];
            lse[i] = l;
            loss[i] = t == ignore_index ? 0.0f : __fsub_rn(l, z[t]);
        }
    }
}

// dlogits[i, j] = scale * exp(z[i, j] - lse[i]) - (j == t ? scale : 0), zero on ignored rows. One thread per element,
// so dlogits may alias logits.
__global__ void cross_entropy_backward_kernel(const float *logits, const int32_t *__restrict__ targets,
                                              const float *__restrict__ lse, int64_t rows, int64_t vocab,
                                              int32_t ignore_index, float scale, float *dlogits, const int *fault) {
    if (*fault) return;
    const int64_t total = rows * vocab;
    for (int64_t e = global_id(); e < total; e += global_stride()) {
        const int64_t i = e / vocab, j = e - i * vocab;
        const int32_t t = targets[i];
        float d = 0.0f;
        if (t != ignore_index) {
            d = __fmul_rn(scale, expf(__fsub_rn(logits[e], lse[i])));
            if (j == t) d = __fsub_rn(d, scale);
        }
        dlogits[e] = d;
    }
}

} // namespace

extern "C" int sbc_cross_entropy_forward(const float *logits, const int32_t *targets, int64_t rows, int64_t vocab,
                                         int32_t ignore_index, float *loss, float *lse, void *stream) {
    SBC_CHECK(rows >= 0 && vocab > 0);
    if (rows == 0) return SBC_OK;
    SBC_CHECK(logits != nullptr && targets != nullptr && loss != nullptr && lse != nullptr);
    const int *fault;
    const int checked = check_indices(targets, rows, vocab, true, ignore_index, as_stream(stream), &fault);
    if (checked != SBC_OK) return checked;
    const unsigned grid = (unsigned)(rows < kMaxBlocks ? rows : kMaxBlocks);
    cross_entropy_forward_kernel<<<grid, kThreads, 0, as_stream(stream)>>>(logits, targets, rows, vocab, ignore_index,
                                                                           loss, lse, fault);
    return launched();
}

extern "C" int sbc_cross_entropy_backward(const float *logits, const int32_t *targets, const float *lse, int64_t rows,
                                          int64_t vocab, int32_t ignore_index, float scale, float *dlogits,
                                          void *stream) {
    SBC_CHECK(rows >= 0 && vocab > 0);
    if (rows == 0) return SBC_OK;
    SBC_CHECK(logits != nullptr && targets != nullptr && lse != nullptr && dlogits != nullptr);
    const int *fault;
    const int checked = check_indices(targets, rows, vocab, true, ignore_index, as_stream(stream), &fault);
    if (checked != SBC_OK) return checked;
    cross_entropy_backward_kernel<<<grid_for(rows * vocab), kThreads, 0, as_stream(stream)>>>(
        logits, targets, lse, rows, vocab, ignore_index, scale, dlogits, fault);
    return launched();
}
