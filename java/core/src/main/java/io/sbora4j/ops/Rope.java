package io.sbora4j.ops;

import io.sbora4j.autograd.Autograd;
import io.sbora4j.backend.Backend;
import io.sbora4j.backend.Backends;
import io.sbora4j.tensor.DType;
import io.sbora4j.tensor.Tensor;
import java.util.List;

/** Rotary position embedding in HF's rotate_half convention; its backward is the rotation by the opposite angle. */
public final class Rope {

    private Rope() {}

    /** Rotates each of the {@code heads} heads of every row of x (tokens x heads·headDim) by its row's position. */
    public static Tensor apply(Tensor x, int heads, Tensor positions, RopeTables tables) {
        Checks.f32SameDevice("rope", x);
        if (x.rank() != 2 || x.dim(1) != heads * tables.headDim()) {
            throw new IllegalArgumentException(
                    "rope: input " + x.shape() + " is not tokens x " + heads + "·" + tables.headDim());
        }
        if (positions.dtype() != DType.I32 || positions.numel() != x.dim(0)) {
            throw new IllegalArgumentException("rope: need one i32 position per row, got " + positions.describe());
        }
        Backend be = Backends.of(x.device());
        Tensor out = x.emptyLike();
        be.rope(x, heads, positions, tables.cos(), tables.sin(), 1f, out);
        return Autograd.record(out, "rope", List.of(x), List.of(), g -> {
            Tensor gx = g.emptyLike();
            be.rope(g, heads, positions, tables.cos(), tables.sin(), -1f, gx);
            return new Tensor[] {gx};
        });
    }
}
