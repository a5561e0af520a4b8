package io.sbora4j.ops;

import io.sbora4j.autograd.Autograd;
import io.sbora4j.backend.Backend;
import io.sbora4j.backend.Backends;
import io.sbora4j.tensor.DType;
import io.sbora4j.tensor.Tensor;
import java.util.List;

/** RMSNorm (Zhang and Sennrich 2019) as LLaMA uses it: {@code y = w ⊙ x / √(mean(x²) + eps)} per row. */
public final class Norms {

    private Norms() {}

    /** RMSNorm of each row of x (..., n) with weight w (n). Saves x and the per-row 1/rms. */
    public static Tensor rmsNorm(Tensor x, Tensor w, float eps) {
        Checks.f32SameDevice("rmsNorm", x, w);
        if (w.rank() != 1 || w.dim(0) != x.shape().cols()) {
            throw new IllegalArgumentException("rmsNorm: weight " + w.shape() + " does not match rows of " + x.shape());
        }
        Backend be = Backends.of(x.device());
        Tensor y = x.emptyLike();
        Tensor rstd = Tensor.empty(x.device(), DType.F32, (int) x.shape().rows());
        be.rmsNormForward(x, w, eps, y, rstd);
        return Autograd.record(y, "rmsNorm", List.of(x, w), List.of(x, rstd), dy -> {
            Tensor dx = x.requiresGrad() ? x.emptyLike() : null;
            Tensor dw = w.requiresGrad() ? w.emptyLike() : null;
            be.rmsNormBackward(x, w, rstd, dy, dx, dw);
            return new Tensor[] {dx, dw};
        });
    }
}
