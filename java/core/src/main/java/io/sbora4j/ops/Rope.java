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

    /**
     * Rotates each of the {@code heads} heads of every row of x (tokens x heads·headDim) by its row's position.
     * Positions in host memory grow tables built {@link RopeTables#onDemand} to the furthest of them; positions on a
     * device must lie within the tables as they are ({@link RopeTables#ensure}).
     */
    public static Tensor apply(Tensor x, int heads, Tensor positions, RopeTables tables) {
        Backend be = check(x, heads, positions, tables);
        Tensor out = x.emptyLike();
        RopeTables.Pair t = tables.current();
        be.rope(x, heads, positions, t.cos(), t.sin(), 1f, out);
        return record(be, out, x, heads, positions, tables);
    }

    /**
     * {@link #apply} written over x's own memory: no new tensor, and the rows are read and written in one pass. The
     * backward needs nothing of x (it rotates the gradient back), so this is right wherever nothing else reads x
     * afterwards and no other backward keeps it: a projection's fresh output, whose backward keeps the projection's
     * input. The result shares x's memory and x must not be used again. A parameter (a leaf that requires a
     * gradient) and read-only memory are refused.
     */
    public static Tensor applyInPlace(Tensor x, int heads, Tensor positions, RopeTables tables) {
        Backend be = check(x, heads, positions, tables);
        if (x.isLeaf() && x.requiresGrad()) {
            throw new IllegalArgumentException("rope in place would overwrite the parameter " + x.describe());
        }
        x.requireWritable("rope in place");
        RopeTables.Pair t = tables.current();
        be.rope(x, heads, positions, t.cos(), t.sin(), 1f, x);
        return record(be, x.detach(), x, heads, positions, tables);
    }

    private static Backend check(Tensor x, int heads, Tensor positions, RopeTables tables) {
        Checks.f32SameDevice("rope", x);
        if (x.rank() != 2 || x.dim(1) != heads * tables.headDim()) {
            throw new IllegalArgumentException(
                    "rope: input " + x.shape() + " is not tokens x " + heads + "·" + tables.headDim());
        }
        if (positions.dtype() != DType.I32 || positions.numel() != x.dim(0)) {
            throw new IllegalArgumentException("rope: need one i32 position per row, got " + positions.describe());
        }
        if (positions.device().isHost()) { // tables that grow on demand grow to the furthest position (see ensure)
            int furthest = -1;
            for (long i = 0; i < positions.numel(); i++) {
                furthest = Math.max(furthest, positions.getInt(i));
            }
            tables.ensure(furthest + 1);
        }
        return Backends.of(x.device());
    }

    /** Saves nothing: the gradient is rotated back by the opposite angle. */
    private static Tensor record(Backend be, Tensor out, Tensor x, int heads, Tensor positions, RopeTables tables) {
        return Autograd.record(out, "rope", List.of(x), List.of(), g -> {
            Tensor gx = g.emptyLike();
            RopeTables.Pair t = tables.current();
            be.rope(g, heads, positions, t.cos(), t.sin(), -1f, gx);
            return new Tensor[] {gx};
        });
    }
}
