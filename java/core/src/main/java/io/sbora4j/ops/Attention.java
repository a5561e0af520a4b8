package io.sbora4j.ops;

import io.sbora4j.autograd.Autograd;
import io.sbora4j.backend.AttentionShape;
import io.sbora4j.backend.Backend;
import io.sbora4j.backend.Backends;
import io.sbora4j.tensor.DType;
import io.sbora4j.tensor.Tensor;
import java.util.List;

/** Causal scaled-dot-product attention with grouped-query heads (LLaMA 2/3). */
public final class Attention {

    private Attention() {}

    /**
     * softmax(q·kᵀ·scale + causal mask)·v per head. q: (batch·seq) x (heads·headDim); k, v: (batch·seq) x
     * (kvHeads·headDim). Saves q, k, v, the output and one log-sum-exp per row; no seq x seq matrix is kept.
     */
    public static Tensor causal(Tensor q, Tensor k, Tensor v, AttentionShape s) {
        Checks.f32SameDevice("attention", q, k, v);
        int qw = s.heads() * s.headDim(), kw = s.kvHeads() * s.headDim();
        if (q.rank() != 2
                || q.dim(0) != s.tokens()
                || q.dim(1) != qw
                || !k.shape().equals(v.shape())
                || k.rank() != 2
                || k.dim(0) != s.tokens()
                || k.dim(1) != kw) {
            throw new IllegalArgumentException(
                    "attention: q " + q.shape() + ", k " + k.shape() + ", v " + v.shape() + " do not match " + s);
        }
        Backend be = Backends.of(q.device());
        Tensor out = q.emptyLike();
        Tensor lse = Tensor.empty(q.device(), DType.F32, s.batch() * s.heads() * s.seq());
        be.attentionForward(q, k, v, s, out, lse);
        return Autograd.record(out, "attention", List.of(q, k, v), List.of(q, k, v, out, lse), dout -> {
            Tensor dq = q.emptyLike(), dk = k.emptyLike(), dv = v.emptyLike();
            be.attentionBackward(q, k, v, out, lse, dout, s, dq, dk, dv);
            return new Tensor[] {dq, dk, dv};
        });
    }

    /**
     * Attention of {@code s.seq()} new tokens per sequence against a key/value cache ({@link Backend#cachedAttention}):
     * q (batch·T) x (heads·headDim), the caches (batch·maxLen) x (kvHeads·headDim) already holding the new tokens'
     * keys and values, {@code past} (i32, batch) the tokens each sequence held before them, {@code window} the
     * sliding window (0: none). Inference only: nothing is recorded for a backward pass, and inputs that require a
     * gradient while the graph is recorded are refused.
     */
    public static Tensor cached(Tensor q, Tensor kCache, Tensor vCache, Tensor past, AttentionShape s, int window) {
        Checks.f32SameDevice("cached attention", q, kCache, vCache);
        if (io.sbora4j.autograd.NoGrad.isRecording()
                && (q.requiresGrad() || kCache.requiresGrad() || vCache.requiresGrad())) {
            throw new IllegalStateException(
                    "cached attention has no backward pass: run it under NoGrad, on tensors that need no gradient");
        }
        Tensor out = q.emptyLike();
        Backends.of(q.device()).cachedAttention(q, kCache, vCache, past, s, window, out);
        return out;
    }
}
