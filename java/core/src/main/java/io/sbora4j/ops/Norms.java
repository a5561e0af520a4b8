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

    /** The two results of {@link #addRmsNorm}: the residual stream after the add, and its RMSNorm. */
    public record Residual(Tensor sum, Tensor normed) {}

    /**
     * The residual add of a pre-norm block and the RMSNorm that follows it, as one op: {@code sum = x + delta},
     * {@code normed = rmsNorm(sum, w)}, computed in one pass over the rows. Saves sum and the per-row 1/rms, as
     * {@link #rmsNorm} of sum would. Its backward takes the gradients of both results at once (the one reaching sum
     * from the next residual, and the norm's) and gives x and delta their sum in one pass, where an add then a norm
     * would need the norm's backward and a separate add of the two gradients.
     */
    public static Residual addRmsNorm(Tensor x, Tensor delta, Tensor w, float eps) {
        Checks.f32SameDevice("addRmsNorm", x, delta, w);
        Checks.sameShape("addRmsNorm", x, delta);
        if (w.rank() != 1 || w.dim(0) != x.shape().cols()) {
            throw new IllegalArgumentException(
                    "addRmsNorm: weight " + w.shape() + " does not match rows of " + x.shape());
        }
        Backend be = Backends.of(x.device());
        Tensor sum = x.emptyLike(), y = x.emptyLike();
        Tensor rstd = Tensor.empty(x.device(), DType.F32, (int) x.shape().rows());
        be.addRmsNormForward(x, delta, w, eps, sum, y, rstd);
        Autograd.record(new Tensor[] {sum, y}, "addRmsNorm", List.of(x, delta, w), List.of(sum, rstd), g -> {
            Tensor dsum = g[0], dy = g[1];
            if (dy == null) {
                return new Tensor[] {dsum, dsum, null}; // only the residual was used: the add's backward
            }
            Tensor dx = x.requiresGrad() || delta.requiresGrad() ? x.emptyLike() : null;
            Tensor dw = w.requiresGrad() ? w.emptyLike() : null;
            be.addRmsNormBackward(sum, w, rstd, dy, dsum, dx, dw);
            return new Tensor[] {dx, dx, dw};
        });
        return new Residual(sum, y);
    }
}
