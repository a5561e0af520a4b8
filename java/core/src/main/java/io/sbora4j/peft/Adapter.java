package io.sbora4j.peft;

import io.sbora4j.tensor.Tensor;
import java.util.List;
import java.util.Map;

/**
 * The trainable part beside one frozen linear layer. Each kind computes the whole adapted layer in one recorded op
 * (base GEMM and adapter path together), so that it controls exactly what is saved for the backward pass.
 */
public sealed interface Adapter permits LoraAdapter, DoraAdapter, SboraFaAdapter, SboraFbAdapter {

    AdapterMethod method();

    /** The rank r. */
    int rank();

    /** s = alpha / r. */
    float scaling();

    /** The adapted layer on x (tokens x in) beside the frozen layer {@code base}: y (tokens x out). */
    Tensor forward(Tensor x, FrozenBase base, boolean training);

    /** Folds ΔW into {@code weight} in place. */
    void merge(Tensor weight);

    /** Takes ΔW back out of a weight {@link #merge} changed. */
    void unmerge(Tensor weight);

    /** Restarts the dropout masks for micro-batch {@code counter} (reproducible training and resumption). */
    void reseedDropout(long counter);

    /** The tensors an optimizer updates. */
    List<Tensor> trainable();

    /** Every tensor of the adapter by its file name ({@code lora_A}, {@code lora_B}, {@code idx}, {@code magnitude}). */
    Map<String, Tensor> tensors();

    /** Number of trainable parameters (as the paper counts them). */
    default long trainableCount() {
        long n = 0;
        for (Tensor t : trainable()) {
            n += t.numel();
        }
        return n;
    }
}
