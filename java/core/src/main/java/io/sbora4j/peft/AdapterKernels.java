package io.sbora4j.peft;

import io.sbora4j.backend.Backend;
import io.sbora4j.tensor.DType;
import io.sbora4j.tensor.Tensor;

/** Pieces every adapted layer shares. */
final class AdapterKernels {

    private AdapterKernels() {}

    /** c = alpha · op(a) · op(b), a new f32 (m x n) tensor: the gradients of the (f32) trained factors. */
    static Tensor gemm(Backend be, boolean ta, boolean tb, float alpha, Tensor a, Tensor b, int m, int n) {
        return gemm(be, ta, tb, alpha, a, b, m, n, DType.F32);
    }

    /**
     * c = alpha · op(a) · op(b), a new (m x n) tensor of {@code type}: activation-shaped intermediates take the
     * activations' type (bf16 in a bf16 layer, as autocast would), parameter gradients f32.
     */
    static Tensor gemm(Backend be, boolean ta, boolean tb, float alpha, Tensor a, Tensor b, int m, int n, DType type) {
        Tensor c = Tensor.empty(a.device(), type, m, n);
        be.gemm(ta, tb, alpha, a, b, 0f, c);
        return c;
    }
}
