package io.sbora4j.nn;

import io.sbora4j.tensor.DType;
import io.sbora4j.tensor.Device;
import io.sbora4j.tensor.Tensor;
import java.util.List;
import java.util.function.Consumer;

/**
 * A linear layer whose weight does not train, as adapters need it: its two GEMMs without autograd, a dense view of
 * the weight, and merging of an update into the weight. {@link Linear} stores W (f32 or bf16); a quantised layer
 * stores it compressed and dequantises on the fly. Any implementation works under an adapter (a benchmark's stand-in
 * that skips the GEMMs included).
 */
public interface FrozenLinear extends LinearLayer {

    @Override
    default FrozenLinear frozen() {
        return this;
    }

    /** None: the weight is frozen (a {@link Linear} whose weight trains says so). */
    @Override
    default List<Tensor> trainable() {
        return List.of();
    }

    /** W (out x in): the stored tensor, or a dequantised f32 copy for a compressed weight (costly: a full copy). */
    Tensor denseWeight();

    /** The device the weight lives on and the layer computes on. */
    Device device();

    /** The type the layer's GEMMs take and give: the weight's (f32 or bf16), f32 for a dequantised weight. */
    DType computeType();

    /** y = x·Wᵀ for a (tokens x in) matrix, not recorded by autograd: a fresh tensor the caller may add into. */
    Tensor forwardRaw(Tensor x2);

    /** dx = dy·W for a (tokens x out) matrix, not recorded: a fresh tensor the caller may add into. */
    Tensor backwardRaw(Tensor dy);

    /** x (..., in) as a (tokens x in) matrix, checked for shape and non-finite values. */
    Tensor flatten(Tensor x);

    /** {@link #flatten} without the scan for non-finite values. */
    Tensor flattenUnchecked(Tensor x);

    /** y (tokens x out) given back the leading dimensions of x. */
    Tensor unflatten(Tensor y, Tensor x);

    /**
     * Folds an update into the weight: {@code addDelta} adds ΔW into the dense f32 tensor it is given (the weight
     * itself for {@link Linear}; a dequantised copy, re-encoded afterwards, for a quantised weight).
     */
    void mergeDelta(Consumer<Tensor> addDelta);

    /** Takes back the last {@link #mergeDelta}; {@code subtractDelta} subtracts ΔW from a dense tensor. */
    void unmergeDelta(Consumer<Tensor> subtractDelta);
}
