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
 * LoRA (Hu et al. 2021) and, with A frozen, LoRA-FA (Zhang et al. 2023): the baselines.
 *
 * <pre>
 *   forward   xa = x·Aᵀ (T x r);  y = x·Wᵀ + s·xa·Bᵀ
 *   backward  t = dy·B;  dB = s·dyᵀ·xa;  dA = s·tᵀ·x;  dx = dy·W + s·t·A
 *   merge     W += s·B·A                          every element of W changes
 * </pre>
 * LoRA saves x and xa for its backward; LoRA-FA, with no dA to compute, saves only xa.
 */
public final class LoraAdapter implements Adapter {

    private final AdapterMethod method;
    private final String path;
    private final Tensor a;
    private final Tensor b;
    private final float s;
    private final boolean frozenA;
    private final DropoutStream dropout;

    LoraAdapter(
            AdapterMethod method, String path, Tensor a, Tensor b, float s, boolean frozenA, DropoutStream dropout) {
        this.method = method;
        this.path = path;
        this.a = a;
        this.b = b;
        this.s = s;
        this.frozenA = frozenA;
        this.dropout = dropout;
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

    @Override
    public Tensor forward(Tensor x, FrozenLinear base, boolean training) {
        Backend be = Backends.of(x.device());
        int r = rank(), tokens = x.dim(0);
        Tensor y = base.forwardRaw(x);
        Tensor mask = dropout.mask(x, training);
        Tensor xd = DropoutStream.apply(be, x, mask);
        Tensor xa = AdapterKernels.gemm(be, false, true, 1f, xd, a, tokens, r, x.dtype());
        be.gemm(false, true, s, xa, b, 1f, y);
        List<Tensor> saved = new ArrayList<>(List.of(xa));
        if (a.requiresGrad()) {
            saved.add(xd);
        }
        if (mask != null && x.requiresGrad()) {
            saved.add(mask);
        }
        return Autograd.record(y, frozenA ? "lora_fa_linear" : "lora_linear", List.of(x, a, b), saved, dy -> {
            Tensor dx = null, da = null, db = null;
            if (b.requiresGrad()) {
                db = AdapterKernels.gemm(be, true, false, s, dy, xa, b.dim(0), r);
            }
            if (a.requiresGrad() || x.requiresGrad()) {
                Tensor t = AdapterKernels.gemm(be, false, false, 1f, dy, b, tokens, r, dy.dtype());
                if (a.requiresGrad()) {
                    da = AdapterKernels.gemm(be, true, false, s, t, xd, r, a.dim(1));
                }
                if (x.requiresGrad()) {
                    dx = base.backwardRaw(dy);
                    if (mask == null) {
                        be.gemm(false, false, s, t, a, 1f, dx);
                    } else {
                        Tensor ta = AdapterKernels.gemm(be, false, false, 1f, t, a, tokens, a.dim(1), dy.dtype());
                        be.mul(ta, mask, ta);
                        be.axpy(s, ta, dx);
                    }
                }
            }
            return new Tensor[] {dx, da, db};
        });
    }

    @Override
    public void merge(Tensor w) {
        Backends.of(w.device()).gemm(false, false, s, b, a, 1f, w);
    }

    @Override
    public void unmerge(Tensor w) {
        Backends.of(w.device()).gemm(false, false, -s, b, a, 1f, w);
    }

    @Override
    public void reseedDropout(long counter) {
        dropout.reseed(counter);
    }

    @Override
    public List<Tensor> trainable() {
        return frozenA ? List.of(b) : List.of(a, b);
    }

    @Override
    public Map<String, Tensor> tensors() {
        Map<String, Tensor> m = new LinkedHashMap<>();
        m.put("lora_A", a);
        m.put("lora_B", b);
        return m;
    }

    @Override
    public String toString() {
        return method() + "(" + path + ", r=" + rank() + ")";
    }
}
