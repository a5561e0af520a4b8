package io.sbora4j.peft;

import io.sbora4j.nn.FrozenLinear;
import io.sbora4j.tensor.Tensor;

/**
 * The frozen layer an adapter sits beside: its weight and its two GEMMs, {@code y = x·Wᵀ} (forward) and
 * {@code dx = dy·W} (backward). Adapters add their contribution into the tensors these return.
 *
 * <p>{@link #of} is the real layer (its weight, for a quantised layer, a dequantised copy). {@link #withoutGemms} hands out fixed buffers instead of computing them: an
 * adapted layer run over it costs exactly its adapter path, which lets a benchmark time an adapter's overhead
 * directly instead of as the small difference of two large, noisy times.
 */
public interface FrozenBase {

    Tensor weight();

    /** y = x·Wᵀ (tokens x out), a fresh tensor the adapter may add into. */
    Tensor forward(Tensor x);

    /** dx = dy·W (tokens x in), a fresh tensor the adapter may add into. */
    Tensor backward(Tensor dy);

    /** The real frozen layer (f32 or quantised). */
    static FrozenBase of(FrozenLinear layer) {
        return new FrozenBase() {
            @Override
            public Tensor weight() {
                return layer.denseWeight();
            }

            @Override
            public Tensor forward(Tensor x) {
                return layer.forwardRaw(x);
            }

            @Override
            public Tensor backward(Tensor dy) {
                return layer.backwardRaw(dy);
            }
        };
    }

    /**
     * For benchmarks only: returns {@code y} and {@code dx} as they are instead of computing the GEMMs (their
     * contents drift as adapters add into them; only the time means anything).
     */
    static FrozenBase withoutGemms(Tensor w, Tensor y, Tensor dx) {
        return new FrozenBase() {
            @Override
            public Tensor weight() {
                return w;
            }

            @Override
            public Tensor forward(Tensor x) {
                return y;
            }

            @Override
            public Tensor backward(Tensor dy) {
                return dx;
            }
        };
    }
}
