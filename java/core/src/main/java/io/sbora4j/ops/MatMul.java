package io.sbora4j.ops;

import io.sbora4j.autograd.Autograd;
import io.sbora4j.backend.Backend;
import io.sbora4j.backend.Backends;
import io.sbora4j.tensor.Tensor;
import java.util.ArrayList;
import java.util.List;

/** Matrix products, with either operand transposed, and their backward. */
public final class MatMul {

    private MatMul() {}

    /** {@code a · b}. */
    public static Tensor matmul(Tensor a, Tensor b) {
        return matmul(a, false, b, false);
    }

    /**
     * {@code op(a) · op(b)}, op = transpose where asked; a transposed operand is read in place, never copied.
     * Backward: with C = A'B', dA' = dC·B'ᵀ and dB' = A'ᵀ·dC, each again one GEMM with flags. f32 or bf16 (the
     * result takes a's type; see {@link io.sbora4j.backend.Backend} on mixed operands).
     */
    public static Tensor matmul(Tensor a, boolean transA, Tensor b, boolean transB) {
        String op = "matmul";
        Checks.floatingSameDevice(op, a, b);
        Checks.matrix(op, a);
        Checks.matrix(op, b);
        int m = transA ? a.dim(1) : a.dim(0), k = transA ? a.dim(0) : a.dim(1);
        int kb = transB ? b.dim(1) : b.dim(0), n = transB ? b.dim(0) : b.dim(1);
        if (k != kb) {
            throw new IllegalArgumentException(op + ": inner dimensions differ: " + a.shape() + (transA ? "ᵀ" : "")
                    + " · " + b.shape() + (transB ? "ᵀ" : ""));
        }
        Backend be = Backends.of(a.device());
        Tensor c = Tensor.empty(a.device(), a.dtype(), m, n);
        be.gemm(transA, transB, 1f, a, b, 0f, c);
        List<Tensor> saved = new ArrayList<>(2);
        if (b.requiresGrad()) {
            saved.add(a);
        }
        if (a.requiresGrad()) {
            saved.add(b);
        }
        return Autograd.record(c, op, List.of(a, b), saved, dc -> {
            Tensor da = null, db = null;
            if (a.requiresGrad()) {
                da = a.emptyLike();
                if (!transA) {
                    be.gemm(false, !transB, 1f, dc, b, 0f, da); // dA = dC · B'ᵀ
                } else {
                    be.gemm(transB, true, 1f, b, dc, 0f, da); // dA = B' · dCᵀ
                }
            }
            if (b.requiresGrad()) {
                db = b.emptyLike();
                if (!transB) {
                    be.gemm(!transA, false, 1f, a, dc, 0f, db); // dB = A'ᵀ · dC
                } else {
                    be.gemm(true, transA, 1f, dc, a, 0f, db); // dB = dCᵀ · A'
                }
            }
            return new Tensor[] {da, db};
        });
    }
}
