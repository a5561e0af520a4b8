package io.sbora4j.peft;

import io.sbora4j.backend.Backend;
import io.sbora4j.tensor.DType;
import io.sbora4j.tensor.Tensor;

/** Pieces every adapted layer shares: the frozen base GEMMs. */
final class AdapterKernels {

    private AdapterKernels() {}

    /** y = x · Wᵀ (tokens x out). */
    static Tensor baseForward(Backend be, Tensor x, Tensor w) {
        Tensor y = Tensor.empty(x.device(), DType.F32, x.dim(0), w.dim(0));
        be.gemm(false, true, 1f, x, w, 0f, y);
        return y;
    }

    /** dx = dy · W (tokens x in): the input gradient through the frozen weight. */
    static Tensor baseBackward(Backend be, Tensor dy, Tensor w) {
        Tensor dx = Tensor.empty(dy.device(), DType.F32, dy.dim(0), w.dim(1));
        be.gemm(false, false, 1f, dy, w, 0f, dx);
        return dx;
    }

    /** c = alpha · op(a) · op(b), a new (m x n) tensor. */
    static Tensor gemm(Backend be, boolean ta, boolean tb, float alpha, Tensor a, Tensor b, int m, int n) {
        Tensor c = Tensor.empty(a.device(), DType.F32, m, n);
        be.gemm(ta, tb, alpha, a, b, 0f, c);
        return c;
    }
}
