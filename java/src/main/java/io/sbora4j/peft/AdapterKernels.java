package io.sbora4j.peft;

import io.sbora4j.backend.Backend;
import io.sbora4j.tensor.DType;
import io.sbora4j.tensor.Tensor;

/** Pieces every adapted layer shares. */
final class AdapterKernels {

    private AdapterKernels() {}

    /** c = alpha · op(a) · op(b), a new (m x n) tensor. */
    static Tensor gemm(Backend be, boolean ta, boolean tb, float alpha, Tensor a, Tensor b, int m, int n) {
        Tensor c = Tensor.empty(a.device(), DType.F32, m, n);
        be.gemm(ta, tb, alpha, a, b, 0f, c);
        return c;
    }
}
