package io.sbora4j.ops;

import io.sbora4j.autograd.Autograd;
import io.sbora4j.backend.Backend;
import io.sbora4j.backend.Backends;
import io.sbora4j.tensor.Tensor;
import java.util.List;

/**
 * Gather ({@code index_select}) and scatter-add ({@code index_add}) of whole rows (dim 0) or columns (dim 1) of a
 * matrix, with distinct indices. They are each other's backward: the gradient of a gather is a scatter-add of the
 * output gradient, and the gradient of a scatter-add's source is a gather.
 */
public final class Indexing {

    private Indexing() {}

    /** {@code x[idx, :]} (dim 0) or {@code x[:, idx]} (dim 1). */
    public static Tensor indexSelect(Tensor x, int dim, Tensor idx) {
        String op = "indexSelect";
        Checks.f32SameDevice(op, x);
        Checks.matrix(op, x);
        checkDim(op, dim);
        Checks.indices(op, idx, x.dim(dim), x);
        Backend be = Backends.of(x.device());
        int r = (int) idx.numel();
        Tensor out;
        if (dim == 0) {
            out = Tensor.empty(x.device(), x.dtype(), r, x.dim(1));
            be.gatherRows(x, idx, out);
        } else {
            out = Tensor.empty(x.device(), x.dtype(), x.dim(0), r);
            be.gatherCols(x, idx, out);
        }
        return Autograd.record(out, op, List.of(x), List.of(), g -> {
            Tensor gx = Tensor.zeros(x.device(), x.shape().dims());
            scatterAdd(be, gx, dim, idx, g, 1f);
            return new Tensor[] {gx};
        });
    }

    /** A copy of {@code dst} with {@code alpha * src} added into its rows (dim 0) or columns (dim 1) {@code idx}. */
    public static Tensor indexAdd(Tensor dst, int dim, Tensor idx, Tensor src, float alpha) {
        String op = "indexAdd";
        Checks.f32SameDevice(op, dst, src);
        Checks.matrix(op, dst);
        Checks.matrix(op, src);
        checkDim(op, dim);
        Checks.indices(op, idx, dst.dim(dim), dst);
        int r = (int) idx.numel();
        boolean fits =
                dim == 0 ? src.dim(0) == r && src.dim(1) == dst.dim(1) : src.dim(0) == dst.dim(0) && src.dim(1) == r;
        if (!fits) {
            throw new IllegalArgumentException(op + ": source " + src.shape() + " does not match " + r
                    + " indices into " + dst.shape() + " along dim " + dim);
        }
        Backend be = Backends.of(dst.device());
        Tensor out = dst.emptyLike();
        be.copy(dst, out);
        scatterAdd(be, out, dim, idx, src, alpha);
        return Autograd.record(out, op, List.of(dst, src), List.of(), g -> {
            Tensor gsrc = null;
            if (src.requiresGrad()) {
                gsrc = src.emptyLike();
                if (dim == 0) {
                    be.gatherRows(g, idx, gsrc);
                } else {
                    be.gatherCols(g, idx, gsrc);
                }
                if (alpha != 1f) {
                    be.scale(gsrc, alpha, gsrc);
                }
            }
            return new Tensor[] {g, gsrc};
        });
    }

    private static void scatterAdd(Backend be, Tensor dst, int dim, Tensor idx, Tensor src, float alpha) {
        if (dim == 0) {
            be.indexAddRows(dst, idx, src, alpha);
        } else {
            be.indexAddCols(dst, idx, src, alpha);
        }
    }

    private static void checkDim(String op, int dim) {
        if (dim != 0 && dim != 1) {
            throw new IllegalArgumentException(op + ": dim must be 0 (rows) or 1 (columns), got " + dim);
        }
    }
}
