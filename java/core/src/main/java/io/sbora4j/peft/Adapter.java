package io.sbora4j.peft;

import io.sbora4j.nn.FrozenLinear;
import io.sbora4j.tensor.Tensor;
import java.util.List;
import java.util.Map;

/**
 * The trainable part beside one frozen linear layer, created by its {@link AdapterMethod}. Each computes the whole
 * adapted layer in one recorded op (the base GEMM and the adapter path together), so that it controls exactly what
 * is saved for the backward pass.
 */
public interface Adapter {

    /** The method that made this adapter. */
    AdapterMethod method();

    /** The rank r. */
    int rank();

    /** s = alpha / r. */
    float scaling();

    /**
     * The adapted layer on x (tokens x in) beside the frozen layer {@code base}: y (tokens x out), recorded by
     * autograd with the adapter's own backward.
     */
    Tensor forward(Tensor x, FrozenLinear base, boolean training);

    /** Folds ΔW into {@code weight} (the base's dense weight) in place. */
    void merge(Tensor weight);

    /** Takes ΔW back out of a weight {@link #merge} changed. */
    void unmerge(Tensor weight);

    /** Restarts the dropout masks for micro-batch {@code counter} (reproducible training and resumption). */
    void reseedDropout(long counter);

    /** The tensors an optimizer updates. */
    List<Tensor> trainable();

    /** Every tensor the adapter stores, by the names of {@link AdapterMethod#storedTensors}. */
    Map<String, Tensor> tensors();

    /**
     * Overwrites this adapter's tensors with {@code stored} ones of the same names, shapes and types (the caller has
     * checked those). A method with invariants checks them here and throws {@link IllegalArgumentException} naming
     * the layer and the bad value (SBoRA: distinct indices in range).
     */
    default void load(Map<String, Tensor> stored) {
        for (var e : tensors().entrySet()) {
            e.getValue().copyFrom(stored.get(e.getKey()));
        }
    }

    /** Number of trainable parameters (as the paper counts them). */
    default long trainableCount() {
        long n = 0;
        for (Tensor t : trainable()) {
            n += t.numel();
        }
        return n;
    }
}
