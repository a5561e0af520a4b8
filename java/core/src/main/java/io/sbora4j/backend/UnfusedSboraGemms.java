package io.sbora4j.backend;

import io.sbora4j.tensor.DType;
import io.sbora4j.tensor.Tensor;

/**
 * SBoRA's gather and scatter GEMMs as separate steps on any backend: a gather then the backend's GEMM, or a GEMM
 * into an f32 temporary then an index-add. A backend without fused kernels, or one asked for
 * {@link BackendOptions.SboraGemms#UNFUSED}, calls these from {@link Backend#gatherGemm} and
 * {@link Backend#gemmScatter}.
 */
public final class UnfusedSboraGemms {

    private UnfusedSboraGemms() {}

    /** {@link Backend#gatherGemm} as a gather into {@code xs} (or a temporary) and one GEMM. */
    public static void gatherGemm(
            Backend be, Tensor x, Tensor idx, Tensor f, boolean transF, float alpha, Tensor c, Tensor xs) {
        Tensor g = xs != null
                ? xs
                : Tensor.empty(x.device(), x.dtype(), Math.toIntExact(x.shape().rows()), Math.toIntExact(idx.numel()));
        be.gatherCols(x, idx, g);
        be.gemm(false, transF, alpha, g, f, 1f, c);
    }

    /** {@link Backend#gemmScatter} as a GEMM into an f32 temporary and an index-add. */
    public static void gemmScatter(Backend be, Tensor a, Tensor f, boolean transF, Tensor idx, float alpha, Tensor c) {
        Tensor t = Tensor.empty(a.device(), DType.F32, Math.toIntExact(a.shape().rows()), Math.toIntExact(idx.numel()));
        be.gemm(false, transF, 1f, a, f, 0f, t);
        be.indexAddCols(c, idx, t, alpha);
    }
}
