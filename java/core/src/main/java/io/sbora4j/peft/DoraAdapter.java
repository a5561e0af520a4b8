package io.sbora4j.peft;

import io.sbora4j.autograd.Autograd;
import io.sbora4j.backend.Backend;
import io.sbora4j.backend.Backends;
import io.sbora4j.nn.FrozenLinear;
import io.sbora4j.tensor.DType;
import io.sbora4j.tensor.Tensor;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * DoRA (Liu et al. 2024): LoRA on the direction of W, plus a trained magnitude m per output row.
 *
 * <pre>
 *   W' = W + s·B·A,  n_i = ‖W'_i‖,  c = m / n
 *   forward   z = x·Wᵀ + s·(x·Aᵀ)·Bᵀ;  y = z ⊙ c   (column i of y scaled by c_i)
 * </pre>
 * The gradient is exact: the norm is differentiated too (PEFT detaches it to save memory, which makes its gradient
 * an approximation). With dz = dy ⊙ c, dc = Σ_t dy ⊙ z and g = -dc·c/n², the norm contributes diag(g)·W' to the
 * gradient of W', which reaches B and A through W'·Aᵀ and Bᵀ·diag(g)·W' (O(out·in·r), never a dense dW).
 * m starts at ‖W‖ per row, so the adapted layer starts equal to the base layer.
 */
public final class DoraAdapter implements Adapter {

    private final AdapterMethod method;
    private final String path;
    private final Tensor a;
    private final Tensor b;
    private final Tensor magnitude;
    private final float s;
    private final DropoutStream dropout;
    /** Row norms of W + sBA at merge time, needed to undo the merge; allocated once with the parameters. */
    private final Tensor mergedNorms;

    private boolean merged;

    DoraAdapter(
            AdapterMethod method, String path, Tensor a, Tensor b, Tensor magnitude, float s, DropoutStream dropout) {
        this.method = method;
        this.path = path;
        this.a = a;
        this.b = b;
        this.magnitude = magnitude;
        this.s = s;
        this.dropout = dropout;
        this.mergedNorms = Tensor.zeros(
                magnitude.arena(), magnitude.device(), magnitude.shape().dims());
    }

    @Override
    public AdapterMethod method() {
        return method;
    }

    @Override
    public int rank() {
        return a.dim(0);
    }

    @Override
    public float scaling() {
        return s;
    }

    /** W' = W + s·B·A, a new tensor. */
    private Tensor directed(Backend be, Tensor w) {
        Tensor wp = w.emptyLike();
        be.copy(w, wp);
        be.gemm(false, false, s, b, a, 1f, wp);
        return wp;
    }

    @Override
    public Tensor forward(Tensor x, FrozenLinear base, boolean training) {
        Tensor w = base.denseWeight();
        Backend be = Backends.of(x.device());
        int r = rank(), tokens = x.dim(0), out = w.dim(0);
        Tensor mask = dropout.mask(x, training);
        Tensor xd = DropoutStream.apply(be, x, mask);
        Tensor z = base.forwardRaw(x);
        Tensor xa = AdapterKernels.gemm(be, false, true, 1f, xd, a, tokens, r);
        be.gemm(false, true, s, xa, b, 1f, z);
        Tensor norms = Tensor.empty(x.device(), DType.F32, out);
        be.rowNorm(directed(be, w), norms);
        Tensor c = norms.emptyLike();
        be.div(magnitude, norms, c);
        Tensor y = z.emptyLike();
        be.scaleCols(z, c, y);
        List<Tensor> saved = new ArrayList<>(List.of(xd, xa, z, norms, c));
        if (mask != null && x.requiresGrad()) {
            saved.add(mask);
        }
        return Autograd.record(y, "dora_linear", List.of(x, a, b, magnitude), saved, dy -> {
            Tensor dz = dy.emptyLike();
            be.scaleCols(dy, c, dz);
            Tensor dc = norms.emptyLike();
            be.colDot(dy, z, dc);
            Tensor dm = null, da = null, db = null, dx = null;
            if (magnitude.requiresGrad()) {
                dm = norms.emptyLike();
                be.div(dc, norms, dm); // dm = dc / n
            }
            Tensor t = AdapterKernels.gemm(be, false, false, 1f, dz, b, tokens, r);
            if (a.requiresGrad() || b.requiresGrad()) {
                Tensor g = norms.emptyLike(); // g = -dc·c / n²
                Tensor n2 = norms.emptyLike();
                be.mul(dc, c, g);
                be.mul(norms, norms, n2);
                be.div(g, n2, g);
                be.scale(g, -1f, g);
                Tensor wp = directed(be, w);
                if (b.requiresGrad()) { // dB = s·dzᵀ·xa + s·diag(g)·W'·Aᵀ
                    Tensor p = AdapterKernels.gemm(be, false, true, 1f, wp, a, out, r);
                    be.scaleRows(p, g, p);
                    db = AdapterKernels.gemm(be, true, false, s, dz, xa, out, r);
                    be.axpy(s, p, db);
                }
                if (a.requiresGrad()) { // dA = s·tᵀ·xd + s·(diag(g)·B)ᵀ·W'
                    Tensor gb = b.emptyLike();
                    be.scaleRows(b, g, gb);
                    da = AdapterKernels.gemm(be, true, false, s, t, xd, r, a.dim(1));
                    be.gemm(true, false, s, gb, wp, 1f, da);
                }
            }
            if (x.requiresGrad()) { // dx = dz·W + s·(t·A ⊙ mask)
                dx = base.backwardRaw(dz);
                if (mask == null) {
                    be.gemm(false, false, s, t, a, 1f, dx);
                } else {
                    Tensor ta = AdapterKernels.gemm(be, false, false, 1f, t, a, tokens, a.dim(1));
                    be.mul(ta, mask, ta);
                    be.axpy(s, ta, dx);
                }
            }
            return new Tensor[] {dx, da, db, dm};
        });
    }

    /** W ← (m / ‖W'‖) ⊙ W' row by row, remembering ‖W'‖ for {@link #unmerge}. */
    @Override
    public void merge(Tensor w) {
        Backend be = Backends.of(w.device());
        be.gemm(false, false, s, b, a, 1f, w);
        be.rowNorm(w, mergedNorms);
        Tensor c = mergedNorms.emptyLike();
        be.div(magnitude, mergedNorms, c);
        be.scaleRows(w, c, w);
        merged = true;
    }

    @Override
    public void unmerge(Tensor w) {
        if (!merged) {
            throw new IllegalStateException("layer '" + path + "': DoRA unmerge without a preceding merge");
        }
        Backend be = Backends.of(w.device());
        Tensor inv = mergedNorms.emptyLike();
        be.div(mergedNorms, magnitude, inv);
        be.scaleRows(w, inv, w);
        be.gemm(false, false, -s, b, a, 1f, w);
        merged = false;
    }

    /**
     * The weight was put back by copying (an exact swap-out) rather than by {@link #unmerge}: a later unmerge
     * without a merge must be refused again.
     */
    void restoredByCopy() {
        merged = false;
    }

    @Override
    public void reseedDropout(long counter) {
        dropout.reseed(counter);
    }

    @Override
    public List<Tensor> trainable() {
        return List.of(a, b, magnitude);
    }

    @Override
    public Map<String, Tensor> tensors() {
        Map<String, Tensor> m = new LinkedHashMap<>();
        m.put("lora_A", a);
        m.put("lora_B", b);
        m.put("magnitude", magnitude);
        return m;
    }

    @Override
    public String toString() {
        return "DoRA(" + path + ", r=" + rank() + ")";
    }
}
