package io.sbora4j.peft;

import io.sbora4j.autograd.Autograd;
import io.sbora4j.backend.Backend;
import io.sbora4j.backend.Backends;
import io.sbora4j.nn.FrozenLinear;
import io.sbora4j.tensor.Tensor;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * SBoRA-FB (paper §3.1): B is fixed to r columns of the identity, picked by idx into the outputs; only A (r x in,
 * zeros) trains.
 *
 * <pre>
 *   forward   y = x·Wᵀ;  y[:, idx] += s·x·Aᵀ      a scatter-add replaces the ·Bᵀ GEMM
 *   backward  dA = s·dy[:, idx]ᵀ·x
 *             dx = dy·W + s·dy[:, idx]·A
 *   merge     W[idx, :] += s·A                    exactly r rows of W change
 * </pre>
 */
public final class SboraFbAdapter implements Adapter {

    private final AdapterMethod method;
    private final String path;
    private final int outFeatures;
    private final Tensor idx;
    private final Tensor a;
    private final float s;
    private final DropoutStream dropout;

    SboraFbAdapter(
            AdapterMethod method, String path, int outFeatures, Tensor idx, Tensor a, float s, DropoutStream dropout) {
        this.method = method;
        this.path = path;
        this.outFeatures = outFeatures;
        this.idx = idx;
        this.a = a;
        this.s = s;
        this.dropout = dropout;
    }

    @Override
    public AdapterMethod method() {
        return method;
    }

    @Override
    public int rank() {
        return (int) idx.numel();
    }

    @Override
    public float scaling() {
        return s;
    }

    /** The output rows this adapter writes (and the rows of W a merge changes). */
    public int[] indices() {
        return idx.toIntArray();
    }

    @Override
    public Tensor forward(Tensor x, FrozenLinear base, boolean training) {
        Backend be = Backends.of(x.device());
        if (!dropout.active(training)) {
            return forwardNoDropout(be, x, base);
        }
        // Dropout sits between the gather and the multiply, so this pass runs the steps one by one.
        int r = rank(), tokens = x.dim(0);
        Tensor y = base.forwardRaw(x);
        Tensor mask = dropout.mask(x, training);
        Tensor xd = DropoutStream.apply(be, x, mask);
        Tensor xa = AdapterKernels.gemm(be, false, true, 1f, xd, a, tokens, r, x.dtype());
        be.indexAddCols(y, idx, xa, s);
        List<Tensor> saved = new ArrayList<>(List.of(xd));
        if (mask != null && x.requiresGrad()) {
            saved.add(mask);
        }
        return Autograd.record(y, "sbora_fb_linear", List.of(x, a), saved, dy -> {
            Tensor dyg = Tensor.empty(dy.device(), dy.dtype(), tokens, r);
            be.gatherCols(dy, idx, dyg);
            Tensor dx = null, da = null;
            if (a.requiresGrad()) {
                da = AdapterKernels.gemm(be, true, false, s, dyg, xd, r, a.dim(1));
            }
            if (x.requiresGrad()) {
                dx = base.backwardRaw(dy);
                if (mask == null) {
                    be.gemm(false, false, s, dyg, a, 1f, dx);
                } else {
                    Tensor t = AdapterKernels.gemm(be, false, false, 1f, dyg, a, tokens, a.dim(1), dy.dtype());
                    be.mul(t, mask, t);
                    be.axpy(s, t, dx);
                }
            }
            return new Tensor[] {dx, da};
        });
    }

    /**
     * The pass without dropout, through the backend's SBoRA GEMMs: the scatter GEMM adds {@code s·x·Aᵀ} into the
     * columns idx of y, and the backward's gather GEMM reads {@code dy[:, idx]} while it multiplies (writing it out
     * once, for dA). Each backend picks its order inside them.
     */
    private Tensor forwardNoDropout(Backend be, Tensor x, FrozenLinear base) {
        int r = rank(), tokens = x.dim(0);
        Tensor y = base.forwardRaw(x);
        be.gemmScatter(x, a, true, idx, s, y);
        return Autograd.record(y, "sbora_fb_linear", List.of(x, a), List.of(x), dy -> {
            Tensor dx = null, da = null;
            Tensor dyg = a.requiresGrad() ? Tensor.empty(dy.device(), dy.dtype(), tokens, r) : null;
            if (x.requiresGrad()) {
                dx = base.backwardRaw(dy);
                be.gatherGemm(dy, idx, a, false, s, dx, dyg);
            } else if (dyg != null) {
                be.gatherCols(dy, idx, dyg);
            }
            if (dyg != null) {
                da = AdapterKernels.gemm(be, true, false, s, dyg, x, r, a.dim(1));
            }
            return new Tensor[] {dx, da};
        });
    }

    @Override
    public void merge(Tensor w) {
        Backends.of(w.device()).indexAddRows(w, idx, a, s);
    }

    @Override
    public void unmerge(Tensor w) {
        Backends.of(w.device()).indexAddRows(w, idx, a, -s);
    }

    /** Refuses an index list that is not r distinct rows in range, naming the layer and the value. */
    @Override
    public void load(Map<String, Tensor> stored) {
        IndexSelection.explicit(path, stored.get("idx").toIntArray(), outFeatures, rank());
        Adapter.super.load(stored);
    }

    @Override
    public void reseedDropout(long counter) {
        dropout.reseed(counter);
    }

    @Override
    public List<Tensor> trainable() {
        return List.of(a);
    }

    @Override
    public Map<String, Tensor> tensors() {
        Map<String, Tensor> m = new LinkedHashMap<>();
        m.put("lora_A", a);
        m.put("idx", idx);
        return m;
    }

    @Override
    public String toString() {
        return "SBoRA-FB(" + path + ", r=" + rank() + ")";
    }
}
