package io.sbora4j.nn;

import io.sbora4j.tensor.Tensor;
import java.util.Map;
import java.util.function.UnaryOperator;

/**
 * A layer or model: named tensors (trainable or frozen), a training mode, and the linear layers it holds by path,
 * which is where adapters go ({@code PeftModel.inject}). Any module tree that reports its linear layers and lets
 * them be replaced takes adapters, not only {@link LlamaModel}.
 */
public interface Module {

    /** Every tensor of the module by its path ({@code weight}, {@code lora_A}, ...), trainable or not. */
    Map<String, Tensor> namedTensors();

    /** Parameters of the module itself (its base weights, not the adapters injected into it). */
    default long parameterCount() {
        long n = 0;
        for (Tensor t : namedTensors().values()) {
            n += t.dtype().isFloating() ? t.numel() : 0;
        }
        return n;
    }

    /**
     * Stops every base weight of the module from training (what adapter injection does first). The default clears
     * {@code requiresGrad} on every tensor of {@link #namedTensors()}.
     */
    default void freeze() {
        for (Tensor t : namedTensors().values()) {
            if (t.isLeaf()) {
                t.requiresGrad(false);
            }
        }
    }

    /** Whether this module and its children run in training mode (dropout on). */
    void train(boolean training);

    /**
     * Every linear layer of this module tree by its path (e.g. {@code model.layers.0.self_attn.q_proj}), in model
     * order. A layer's {@link LinearLayer#name()} is its path. The default: none.
     */
    default Map<String, LinearLayer> linearLayers() {
        return Map.of();
    }

    /**
     * Puts {@code replace.apply(layer)} in place of every linear layer of {@link #linearLayers()}: the layer itself to
     * keep it, or a layer of the same name and shape (an adapted or quantised one). The default holds no layers and
     * accepts no replacement.
     *
     * @throws IllegalArgumentException when a replacement changes a layer's shape
     */
    default void replaceLinearLayers(UnaryOperator<LinearLayer> replace) {
        if (!linearLayers().isEmpty()) {
            throw new UnsupportedOperationException(
                    getClass().getName() + " reports linear layers but does not" + " implement replaceLinearLayers");
        }
    }

    /**
     * Checks a replacement {@link #replaceLinearLayers} was given: same name and shape as the layer it replaces.
     * Returns it.
     */
    static LinearLayer checkReplacement(LinearLayer layer, LinearLayer next) {
        if (next == null
                || !next.name().equals(layer.name())
                || next.inFeatures() != layer.inFeatures()
                || next.outFeatures() != layer.outFeatures()) {
            throw new IllegalArgumentException("the replacement for " + layer.name() + " (" + layer.outFeatures() + "x"
                    + layer.inFeatures() + ") must keep its name and shape");
        }
        return next;
    }
}
