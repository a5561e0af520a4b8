package io.sbora4j.backend;

import io.sbora4j.tensor.DType;
import io.sbora4j.tensor.Device;
import io.sbora4j.tensor.Tensor;

/**
 * The one place that routes by type, for a backend whose f32 and bf16 kernels are two objects: every call that
 * involves a bf16 tensor goes to the second backend (on the same memory), every other call to the first. The cpu
 * backend pairs its f32 kernels with its bf16 ones this way; a backend with no bf16 kernels of its own can pair
 * them with the plain-Java reference loops (correct to the same contract, not fast). The methods the
 * {@link Backend} contract declares f32 only go to the first backend unchanged.
 */
public final class Bf16Fallback implements Backend {

    private final Backend f32;
    private final Backend bf16;

    /** {@code f32} computes the f32 calls, {@code bf16} those with a bf16 tensor; both on host memory. */
    public Bf16Fallback(Backend f32, Backend bf16) {
        this.f32 = f32;
        this.bf16 = bf16;
    }

    private Backend pick(Tensor... ts) {
        for (Tensor t : ts) {
            if (t != null && t.dtype() == DType.BF16) {
                return bf16;
            }
        }
        return f32;
    }

    @Override
    public Device device() {
        return f32.device();
    }

    @Override
    public void gemm(boolean transA, boolean transB, float alpha, Tensor a, Tensor b, float beta, Tensor c) {
        pick(a, b, c).gemm(transA, transB, alpha, a, b, beta, c);
    }

    @Override
    public void gatherCols(Tensor x, Tensor idx, Tensor out) {
        pick(x, out).gatherCols(x, idx, out);
    }

    @Override
    public void gatherRows(Tensor x, Tensor idx, Tensor out) {
        pick(x, out).gatherRows(x, idx, out);
    }

    @Override
    public void indexAddCols(Tensor dst, Tensor idx, Tensor src, float alpha) {
        pick(dst, src).indexAddCols(dst, idx, src, alpha);
    }

    @Override
    public void indexAddRows(Tensor dst, Tensor idx, Tensor src, float alpha) {
        pick(dst, src).indexAddRows(dst, idx, src, alpha);
    }

    @Override
    public void fill(Tensor x, float value) {
        pick(x).fill(x, value);
    }

    @Override
    public void convert(Tensor src, Tensor dst) {
        (src.dtype() == dst.dtype() ? f32 : bf16).convert(src, dst);
    }

    @Override
    public void gatherGemm(Tensor x, Tensor idx, Tensor f, boolean transF, float alpha, Tensor c, Tensor xs) {
        pick(x, f, c, xs).gatherGemm(x, idx, f, transF, alpha, c, xs);
    }

    @Override
    public void gemmScatter(Tensor a, Tensor f, boolean transF, Tensor idx, float alpha, Tensor c) {
        pick(a, f, c).gemmScatter(a, f, transF, idx, alpha, c);
    }

    @Override
    public void copy(Tensor src, Tensor dst) {
        f32.copy(src, dst); // bytes, whatever their type
    }

    @Override
    public void add(Tensor a, Tensor b, Tensor out) {
        pick(a, b, out).add(a, b, out);
    }

    @Override
    public void sub(Tensor a, Tensor b, Tensor out) {
        pick(a, b, out).sub(a, b, out);
    }

    @Override
    public void mul(Tensor a, Tensor b, Tensor out) {
        pick(a, b, out).mul(a, b, out);
    }

    @Override
    public void div(Tensor a, Tensor b, Tensor out) {
        pick(a, b, out).div(a, b, out);
    }

    @Override
    public void scale(Tensor x, float s, Tensor out) {
        pick(x, out).scale(x, s, out);
    }

    @Override
    public void axpy(float alpha, Tensor x, Tensor y) {
        pick(x, y).axpy(alpha, x, y);
    }

    @Override
    public double sum(Tensor x) {
        return pick(x).sum(x);
    }

    @Override
    public double dot(Tensor a, Tensor b) {
        return f32.dot(a, b);
    }

    @Override
    public long countNonFinite(Tensor x) {
        return pick(x).countNonFinite(x);
    }

    @Override
    public void rowNorm(Tensor x, Tensor out) {
        f32.rowNorm(x, out);
    }

    @Override
    public void scaleRows(Tensor x, Tensor s, Tensor out) {
        f32.scaleRows(x, s, out);
    }

    @Override
    public void scaleCols(Tensor x, Tensor s, Tensor out) {
        f32.scaleCols(x, s, out);
    }

    @Override
    public void colDot(Tensor a, Tensor b, Tensor out) {
        f32.colDot(a, b, out);
    }

    @Override
    public void transpose(Tensor x, Tensor out) {
        f32.transpose(x, out);
    }

    @Override
    public void rmsNormForward(Tensor x, Tensor w, float eps, Tensor y, Tensor rstd) {
        f32.rmsNormForward(x, w, eps, y, rstd);
    }

    @Override
    public void rmsNormBackward(Tensor x, Tensor w, Tensor rstd, Tensor dy, Tensor dx, Tensor dw) {
        f32.rmsNormBackward(x, w, rstd, dy, dx, dw);
    }

    @Override
    public void rope(Tensor x, int heads, Tensor positions, Tensor cos, Tensor sin, float sign, Tensor out) {
        f32.rope(x, heads, positions, cos, sin, sign, out);
    }

    @Override
    public void siluMulForward(Tensor g, Tensor u, Tensor out) {
        f32.siluMulForward(g, u, out);
    }

    @Override
    public void siluMulBackward(Tensor g, Tensor u, Tensor dout, Tensor dg, Tensor du) {
        f32.siluMulBackward(g, u, dout, dg, du);
    }

    @Override
    public void attentionForward(Tensor q, Tensor k, Tensor v, AttentionShape shape, Tensor out, Tensor lse) {
        f32.attentionForward(q, k, v, shape, out, lse);
    }

    @Override
    public void cachedAttention(
            Tensor q, Tensor kCache, Tensor vCache, Tensor past, AttentionShape shape, int window, Tensor out) {
        f32.cachedAttention(q, kCache, vCache, past, shape, window, out);
    }

    @Override
    public void attentionBackward(
            Tensor q,
            Tensor k,
            Tensor v,
            Tensor out,
            Tensor lse,
            Tensor dout,
            AttentionShape shape,
            Tensor dq,
            Tensor dk,
            Tensor dv) {
        f32.attentionBackward(q, k, v, out, lse, dout, shape, dq, dk, dv);
    }

    @Override
    public void crossEntropyForward(Tensor logits, Tensor targets, int ignoreIndex, Tensor loss, Tensor lse) {
        f32.crossEntropyForward(logits, targets, ignoreIndex, loss, lse);
    }

    @Override
    public void crossEntropyBackward(
            Tensor logits, Tensor targets, Tensor lse, int ignoreIndex, float scale, Tensor dlogits) {
        f32.crossEntropyBackward(logits, targets, lse, ignoreIndex, scale, dlogits);
    }

    @Override
    public void addRmsNormForward(Tensor x, Tensor delta, Tensor w, float eps, Tensor sum, Tensor y, Tensor rstd) {
        f32.addRmsNormForward(x, delta, w, eps, sum, y, rstd);
    }

    @Override
    public void addRmsNormBackward(Tensor sum, Tensor w, Tensor rstd, Tensor dy, Tensor dsum, Tensor dx, Tensor dw) {
        f32.addRmsNormBackward(sum, w, rstd, dy, dsum, dx, dw);
    }

    @Override
    public void crossEntropyForwardBackward(
            Tensor logits, Tensor targets, int ignoreIndex, float scale, Tensor loss, Tensor lse, Tensor dlogits) {
        f32.crossEntropyForwardBackward(logits, targets, ignoreIndex, scale, loss, lse, dlogits);
    }

    @Override
    public void nf4Quantize(Tensor x, int block, Tensor packed, Tensor absmax) {
        f32.nf4Quantize(x, block, packed, absmax);
    }

    @Override
    public void nf4Dequantize(Tensor packed, Tensor absmax, long start, int block, Tensor out) {
        f32.nf4Dequantize(packed, absmax, start, block, out);
    }

    @Override
    public void adamwStep(Tensor p, Tensor g, Tensor m, Tensor v, AdamWStep step) {
        f32.adamwStep(p, g, m, v, step);
    }

    @Override
    public void synchronize() {
        f32.synchronize();
    }

    @Override
    public String describe() {
        return f32.describe() + "; bf16: " + bf16.describe();
    }
}
