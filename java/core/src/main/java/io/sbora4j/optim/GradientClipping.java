package io.sbora4j.optim;

import io.sbora4j.backend.Backend;
import io.sbora4j.backend.Backends;
import io.sbora4j.tensor.Tensor;
import java.util.List;

/** Clipping by the global L2 norm of all gradients, as {@code torch.nn.utils.clip_grad_norm_}. */
public final class GradientClipping {

    private GradientClipping() {}

    /**
     * Scales every gradient by {@code maxNorm / (norm + 1e-6)} when the global norm exceeds {@code maxNorm};
     * returns the norm before clipping (non-finite if some gradient is).
     */
    public static double clip(List<Tensor> params, double maxNorm) {
        double sq = 0;
        for (Tensor p : params) {
            if (p.grad() != null) {
                sq += Backends.of(p.device()).dot(p.grad(), p.grad());
            }
        }
        double norm = Math.sqrt(sq);
        if (maxNorm > 0 && norm > maxNorm && Double.isFinite(norm)) {
            float factor = (float) (maxNorm / (norm + 1e-6));
            for (Tensor p : params) {
                if (p.grad() != null) {
                    Backend be = Backends.of(p.device());
                    be.scale(p.grad(), factor, p.grad());
                }
            }
        }
        return norm;
    }
}
