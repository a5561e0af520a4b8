package io.sbora4j.nn;

import io.sbora4j.tensor.Tensor;
import java.util.Map;

/** A layer or model: named tensors (trainable or frozen) and a forward pass defined by the implementation. */
public interface Module {

    /** Every tensor of the module by its path ({@code weight}, {@code lora_A}, ...), trainable or not. */
    Map<String, Tensor> namedTensors();

    /** Whether this module and its children run in training mode (dropout on). */
    void train(boolean training);
}
