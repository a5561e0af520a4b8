package io.sbora4j.ops;

import io.sbora4j.autograd.Autograd;
import io.sbora4j.backend.Backend;
import io.sbora4j.backend.Backends;
import io.sbora4j.tensor.Tensor;
import java.util.List;

/** Reshape (a view, free) and transpose (a copy) with their backward. */
public final class Shapes {

    private Shapes() {}

    /** The same elements with shape {@code dims}; shares memory with {@code x}. */
    public static Tensor reshape(Tensor x, int... dims) {
        Tensor out = x.view(dims);
        int[] original = x.shape().dims();
        return Autograd.record(out, "reshape", List.of(x), List.of(), g -> new Tensor[] {g.view(original)});
    }

    /** The transpose of a matrix, materialised. */
    public static Tensor transpose(Tensor x) {
        Checks.f32SameDevice("transpose", x);
        Checks.matrix("transpose", x);
        Backend be = Backends.of(x.device());
        Tensor out = Tensor.empty(x.device(), x.dtype(), x.dim(1), x.dim(0));
        be.transpose(x, out);
        return Autograd.record(out, "transpose", List.of(x), List.of(), g -> {
            Tensor gx = x.emptyLike();
            be.transpose(g, gx);
            return new Tensor[] {gx};
        });
    }
}
