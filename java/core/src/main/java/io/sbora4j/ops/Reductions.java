package io.sbora4j.ops;

import io.sbora4j.autograd.Autograd;
import io.sbora4j.backend.Backend;
import io.sbora4j.backend.Backends;
import io.sbora4j.tensor.Tensor;
import java.util.List;

/** Reductions to a scalar, and their backward (a broadcast of the scalar gradient). */
public final class Reductions {

    private Reductions() {}

    /** The sum of all elements, as a rank-0 tensor (accumulated in double). */
    public static Tensor sum(Tensor x) {
        return reduce("sum", x, 1.0);
    }

    /** The mean of all elements, as a rank-0 tensor. */
    public static Tensor mean(Tensor x) {
        if (x.numel() == 0) {
            throw new IllegalArgumentException("mean: empty tensor " + x.describe());
        }
        return reduce("mean", x, 1.0 / x.numel());
    }

    private static Tensor reduce(String op, Tensor x, double factor) {
        Checks.f32SameDevice(op, x);
        Backend be = Backends.of(x.device());
        Tensor out = Tensor.empty(x.device(), x.dtype());
        be.fill(out, (float) (be.sum(x) * factor));
        return Autograd.record(out, op, List.of(x), List.of(), g -> {
            Tensor gx = x.emptyLike();
            be.fill(gx, (float) (g.item() * factor));
            return new Tensor[] {gx};
        });
    }
}
