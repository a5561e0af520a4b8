package org.example.vera;

import io.sbora4j.autograd.Autograd;
import io.sbora4j.backend.Backend;
import io.sbora4j.backend.Backends;
import io.sbora4j.nn.FrozenLinear;
import io.sbora4j.peft.Adapter;
import io.sbora4j.peft.AdapterMethod;
import io.sbora4j.tensor.DType;
import io.sbora4j.tensor.Tensor;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * One layer's VeRA adapter, written against the library's public API only (the backend's kernels and autograd).
 *
 * <pre>
 *   forward   u = x·Aᵀ (T x r);  z = (u ⊙ d)·Bᵀ (T x out);  y = x·Wᵀ + s·(z ⊙ b)
 *   backward  dz = s·dy ⊙ b;  db = s·Σ_t dy ⊙ z;  dv = dz·B;  dd = Σ_t dv ⊙ u;  dx = dy·W + (dv ⊙ d)·A
 *   merge     W += s·(Λ_b·B·Λ_d)·A
 * </pre>
 *
 * It keeps u and z for the backward pass.
 */
final class VeraAdapter implements Adapter {

    private final AdapterMethod method;
    private final Tensor a;
    private final Tensor b;
    private final Tensor d;
    private final Tensor lambdaB;
    private final float s;

    VeraAdapter(AdapterMethod method, Tensor a, Tensor b, Tensor d, Tensor lambdaB, float s) {
        this.method = method;
        this.a = a;
        this.b = b;
        this.d = d;
        this.lambdaB = lambdaB;
        this.s = s;
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
        int tokens = x.dim(0), r = rank(), out = base.outFeatures();
        Tensor y = base.forwardRaw(x);
        Tensor u = Tensor.empty(x.device(), DType.F32, tokens, r);
        be.gemm(false, true, 1f, x, a, 0f, u);
        Tensor v = u.emptyLike();
        be.scaleCols(u, d, v);
        Tensor z = Tensor.empty(x.device(), DType.F32, tokens, out);
        be.gemm(false, true, 1f, v, b, 0f, z);
        Tensor zb = z.emptyLike();
        be.scaleCols(z, lambdaB, zb);
        be.axpy(s, zb, y);
        return Autograd.record(y, "vera_linear", List.of(x, d, lambdaB), List.of(u, z), dy -> {
            Tensor dz = dy.emptyLike();
            be.scaleCols(dy, lambdaB, dz);
            be.scale(dz, s, dz);
            Tensor db = null, dd = null, dx = null;
            if (lambdaB.requiresGrad()) {
                db = Tensor.empty(dy.device(), DType.F32, out);
                be.colDot(dy, z, db);
                be.scale(db, s, db);
            }
            Tensor dv = Tensor.empty(dy.device(), DType.F32, tokens, r);
            be.gemm(false, false, 1f, dz, b, 0f, dv);
            if (d.requiresGrad()) {
                dd = Tensor.empty(dy.device(), DType.F32, r);
                be.colDot(dv, u, dd);
            }
            if (x.requiresGrad()) {
                Tensor du = dv.emptyLike();
                be.scaleCols(dv, d, du);
                dx = base.backwardRaw(dy);
                be.gemm(false, false, 1f, du, a, 1f, dx);
            }
            return new Tensor[] {dx, dd, db};
        });
    }

    /** Λ_b·B·Λ_d (out x r), a new tensor. */
    private Tensor scaledB(Backend be) {
        Tensor bd = Tensor.empty(b.device(), DType.F32, b.dim(0), b.dim(1));
        be.scaleCols(b, d, bd);
        be.scaleRows(bd, lambdaB, bd);
        return bd;
    }

    @Override
    public void merge(Tensor w) {
        Backend be = Backends.of(w.device());
        be.gemm(false, false, s, scaledB(be), a, 1f, w);
    }

    @Override
    public void unmerge(Tensor w) {
        Backend be = Backends.of(w.device());
        be.gemm(false, false, -s, scaledB(be), a, 1f, w);
    }

    /** VeRA has no dropout here. */
    @Override
    public void reseedDropout(long counter) {}

    @Override
    public List<Tensor> trainable() {
        return List.of(d, lambdaB);
    }

    @Override
    public Map<String, Tensor> tensors() {
        Map<String, Tensor> m = new LinkedHashMap<>();
        m.put("vera_A", a);
        m.put("vera_B", b);
        m.put("lambda_d", d);
        m.put("lambda_b", lambdaB);
        return m;
    }
}
