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
 * SBoRA-FA (paper §3.1): A is fixed to r rows of the identity, picked by idx; only B (out x r, zeros) trains.
 *
 * <pre>
 *   forward   y  = x·Wᵀ + s·x[:, idx]·Bᵀ         a column gather replaces the x·Aᵀ GEMM
 *   backward  dB = s·dyᵀ·x[:, idx]               needs only x[:, idx] (T x r), not x
 *             dx = dy·W, then dx[:, idx] += s·dy·B
 *   merge     W[:, idx] += s·B                    exactly r columns of W change
 * </pre>
 */
public final class SboraFaAdapter implements Adapter {

    private final AdapterMethod method;
    private final String path;
    private final int inFeatures;
    private final Tensor idx;
    private final Tensor b;
    private final float s;
    private final DropoutStream dropout;

    SboraFaAdapter(
            AdapterMethod method, String path, int inFeatures, Tensor idx, Tensor b, float s, DropoutStream dropout) {
        this.method = method;
        this.path = path;
        this.inFeatures = inFeatures;
        this.idx = idx;
        this.b = b;
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

    /** The input columns this adapter reads (and the columns of W a merge changes). */
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
        int r = rank();
        Tensor xg = Tensor.empty(x.device(), x.dtype(), x.dim(0), r);
        be.gatherCols(x, idx, xg);
        Tensor y = base.forwardRaw(x);
        Tensor mask = dropout.mask(xg, training);
        Tensor xs = DropoutStream.apply(be, xg, mask); // dropout(x)[:, idx] == dropout(x[:, idx])
        be.gemm(false, true, s, xs, b, 1f, y);
        List<Tensor> saved = new ArrayList<>(List.of(xs));
        if (mask != null && x.requiresGrad()) {
            saved.add(mask);
        }
        return Autograd.record(y, "sbora_fa_linear", List.of(x, b), saved, dy -> {
            Tensor dx = null, db = null;
            if (x.requiresGrad()) {
                Tensor t = DropoutStream.apply(
                        be, AdapterKernels.gemm(be, false, false, 1f, dy, b, dy.dim(0), r, dy.dtype()), mask);
                dx = base.backwardRaw(dy);
                be.indexAddCols(dx, idx, t, s);
            }
            if (b.requiresGrad()) {
                db = AdapterKernels.gemm(be, true, false, s, dy, xs, b.dim(0), r);
            }
            return new Tensor[] {dx, db};
        });
    }

    /**
     * The pass without dropout, through the backend's SBoRA GEMMs: the gather GEMM adds {@code s·x[:, idx]·Bᵀ} into
     * y (writing the gathered columns out only when the backward needs them), and the backward's scatter GEMM adds
     * {@code s·dy·B} into the columns idx of dx. Each backend picks its order inside them (one fused kernel, or a
     * gather then a GEMM).
     */
    private Tensor forwardNoDropout(Backend be, Tensor x, FrozenLinear base) {
        int r = rank();
        Tensor y = base.forwardRaw(x);
        boolean keep = Autograd.needsGraph(b); // xs serves dB only
        Tensor xs = keep ? Tensor.empty(x.device(), x.dtype(), x.dim(0), r) : null;
        be.gatherGemm(x, idx, b, true, s, y, xs);
        return Autograd.record(y, "sbora_fa_linear", List.of(x, b), keep ? List.of(xs) : List.of(), dy -> {
            Tensor dx = null, db = null;
            if (x.requiresGrad()) {
                dx = base.backwardRaw(dy);
                be.gemmScatter(dy, b, false, idx, s, dx);
            }
            if (b.requiresGrad()) {
                db = AdapterKernels.gemm(be, true, false, s, dy, xs, b.dim(0), r);
            }
            return new Tensor[] {dx, db};
        });
    }

    @Override
    public void merge(Tensor w) {
        Backends.of(w.device()).indexAddCols(w, idx, b, s);
    }

    @Override
    public void unmerge(Tensor w) {
        Backends.of(w.device()).indexAddCols(w, idx, b, -s);
    }

    /** Refuses an index list that is not r distinct columns in range, naming the layer and the value. */
    @Override
    public void load(Map<String, Tensor> stored) {
        IndexSelection.explicit(path, stored.get("idx").toIntArray(), inFeatures, rank());
        Adapter.super.load(stored);
    }

    @Override
    public void reseedDropout(long counter) {
        dropout.reseed(counter);
    }

    @Override
    public List<Tensor> trainable() {
        return List.of(b);
    }

    @Override
    public Map<String, Tensor> tensors() {
        Map<String, Tensor> m = new LinkedHashMap<>();
        m.put("lora_B", b);
        m.put("idx", idx);
        return m;
    }

    @Override
    public String toString() {
        return "SBoRA-FA(" + path + ", r=" + rank() + ")";
    }
}
