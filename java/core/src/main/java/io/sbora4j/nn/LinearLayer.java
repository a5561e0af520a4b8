package io.sbora4j.nn;

import io.sbora4j.tensor.Tensor;
import java.util.List;

/**
 * A projection {@code y = f(x)} from {@code inFeatures} to {@code outFeatures}: a plain {@link Linear}, or one with
 * an adapter beside it. The model holds its projections through this type so adapters can be swapped in by name.
 */
public interface LinearLayer extends Module {

    /** The layer's path in the model, e.g. {@code model.layers.0.self_attn.q_proj}. */
    String name();

    int inFeatures();

    int outFeatures();

    /** x (..., in) to y (..., out). */
    Tensor forward(Tensor x);

    /**
     * The tensors of this layer that take a gradient in training: an adapter's factors, or a plain layer's weight
     * while it trains (pre-training). What a checkpointed block needs to know that gradients flow through it.
     */
    List<Tensor> trainable();

    /** The frozen layer underneath: this one for a plain or quantised layer, the base of an adapted one. */
    FrozenLinear frozen();
}
