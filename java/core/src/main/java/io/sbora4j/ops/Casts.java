package io.sbora4j.ops;

import io.sbora4j.autograd.Autograd;
import io.sbora4j.backend.Backend;
import io.sbora4j.backend.Backends;
import io.sbora4j.tensor.DType;
import io.sbora4j.tensor.Tensor;
import java.util.List;

/** Conversions between the floating types, with their backward (the gradient converted back). */
public final class Casts {

    private Casts() {}

    /**
     * x as {@code type} (f32 or bf16): f32 to bf16 rounds to nearest even, bf16 to f32 is exact; x itself when it
     * already is. The gradient flows back converted to x's type.
     */
    public static Tensor convert(Tensor x, DType type) {
        String op = "convert";
        Checks.floatingSameDevice(op, x);
        if (!type.isFloating()) {
            throw new IllegalArgumentException(op + ": target type must be f32 or bf16, not " + type);
        }
        if (x.dtype() == type) {
            return x;
        }
        Backend be = Backends.of(x.device());
        Tensor out = Tensor.empty(x.device(), type, x.shape().dims());
        be.convert(x, out);
        return Autograd.record(out, op, List.of(x), List.of(), dy -> {
            Tensor dx = x.emptyLike();
            be.convert(dy, dx);
            return new Tensor[] {dx};
        });
    }
}
