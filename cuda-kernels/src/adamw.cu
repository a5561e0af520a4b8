// Fused AdamW step in place (native/src/adamw.c, torch.optim.AdamW's single-tensor path). Every operation is the
// C code's, rounded the same way (sqrt and division are IEEE round-to-nearest), so the step is exact.
#include "sbc_internal.cuh"

using namespace sbc;

namespace {

__global__ void adamw_kernel(float *__restrict__ p, const float *__restrict__ g, float *__restrict__ m,
                             float *__restrict__ v, int64_t n, float beta1, float beta2, float eps, float decay,
                             float step_size, float bc2_sqrt) {
    const float w1 = __fsub_rn(1.0f, beta1), w2 = __fsub_rn(1.0f, beta2);
    for (int64_t i = global_id(); i < n; i += global_stride()) {
        const float gi = g[i], m0 = m[i];
        const float mi = __fadd_rn(m0, __fmul_rn(w1, __fsub_rn(gi, m0)));               // lerp(m, g, 1 - beta1)
        const float vi = __fadd_rn(__fmul_rn(v[i], beta2), __fmul_rn(__fmul_rn(w2, gi), gi)); // beta2*v + w2*g*g
        const float denom = __fadd_rn(__fdiv_rn(__fsqrt_rn(vi), bc2_sqrt), eps);
        m[i] = mi;
        v[i] = vi;
        p[i] = __fadd_rn(__fmul_rn(p[i], decay), __fmul_rn(-step_size, __fdiv_rn(mi, denom)));
    }
}

} // namespace

extern "C" int sbc_adamw_step(float *p, const float *g, float *m, float *v, int64_t n, float beta1, float beta2,
                              float eps, float decay, float step_size, float bias_correction2_sqrt, void *stream) {
    SBC_CHECK(n >= 0);
    if (n == 0) return SBC_OK;
    SBC_CHECK(p != nullptr && g != nullptr && m != nullptr && v != nullptr);
    SBC_CHECK(bias_correction2_sqrt > 0.0f);
    adamw_kernel<<<grid_for(n), kThreads, 0, as_stream(stream)>>>(p, g, m, v, n, beta1, beta2, eps, decay, step_size,
                                                                 bias_correction2_sqrt);
    return launched();
}
