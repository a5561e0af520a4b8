package io.sbora4j.ops;

import io.sbora4j.autograd.Autograd;
import io.sbora4j.backend.Backend;
import io.sbora4j.backend.Backends;
import io.sbora4j.tensor.Tensor;
import java.util.List;

/** Loss functions, each one fused op. */
public final class Losses {

    private Losses() {}

    /** Mean squared error {@code mean((pred - target)²)}; the target gets no gradient. */
    public static Tensor mse(Tensor pred, Tensor target) {
        Checks.f32SameDevice("mse", pred, target);
        Checks.sameShape("mse", pred, target);
        if (pred.numel() == 0) {
            throw new IllegalArgumentException("mse: empty tensors");
        }
        Backend be = Backends.of(pred.device());
        Tensor diff = pred.emptyLike();
        be.sub(pred, target, diff);
        long n = pred.numel();
        Tensor out = Tensor.empty(pred.device(), pred.dtype());
        be.fill(out, (float) (be.dot(diff, diff) / n));
        return Autograd.record(out, "mse", List.of(pred), List.of(diff), g -> {
            Tensor gp = diff.emptyLike();
            be.scale(diff, (float) (2.0 * g.item() / n), gp);
            return new Tensor[] {gp};
        });
    }
}
