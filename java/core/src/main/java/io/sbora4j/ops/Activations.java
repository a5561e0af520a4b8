package io.sbora4j.ops;

import io.sbora4j.autograd.Autograd;
import io.sbora4j.backend.Backend;
import io.sbora4j.backend.Backends;
import io.sbora4j.tensor.Tensor;
import java.util.List;

/** Activation functions. */
public final class Activations {

    private Activations() {}

    /** The SwiGLU gate of LLaMA's MLP: {@code silu(g) ⊙ u}, fused. */
    public static Tensor siluMul(Tensor g, Tensor u) {
        Checks.f32SameDevice("siluMul", g, u);
        Checks.sameShape("siluMul", g, u);
        Backend be = Backends.of(g.device());
        Tensor out = g.emptyLike();
        be.siluMulForward(g, u, out);
        return Autograd.record(out, "siluMul", List.of(g, u), List.of(g, u), d -> {
            Tensor dg = g.requiresGrad() ? g.emptyLike() : null;
            Tensor du = u.requiresGrad() ? u.emptyLike() : null;
            be.siluMulBackward(g, u, d, dg, du);
            return new Tensor[] {dg, du};
        });
    }
}
