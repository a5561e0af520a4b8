package io.sbora4j.nn;

import io.sbora4j.backend.Backends;
import io.sbora4j.ops.MatMul;
import io.sbora4j.tensor.DType;
import io.sbora4j.tensor.Device;
import io.sbora4j.tensor.Tensor;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * {@code y = x · Wᵀ} with W of shape (out, in), as {@code torch.nn.Linear(in, out, bias=False)}: the layers of a
 * LLaMA model. The weight is usually frozen (adapters train beside it). f32 or bf16 (a bf16 layer takes bf16
 * inputs and gives bf16 outputs, accumulating in f32; see {@link io.sbora4j.backend.Backend}).
 */
public final class Linear implements FrozenLinear {

    private final String name;
    private final Tensor weight;

    /** A layer over {@code weight} (out x in); {@code name} is its path in the model, used in messages. */
    public Linear(String name, Tensor weight) {
        if (weight.rank() != 2 || !weight.dtype().isFloating()) {
            throw new IllegalArgumentException(
                    "layer '" + name + "': weight must be an f32 or bf16 matrix, got " + weight.describe());
        }
        this.name = name;
        this.weight = weight;
    }

    @Override
    public String name() {
        return name;
    }

    public Tensor weight() {
        return weight;
    }

    /** The weight while it trains (pre-training), else none. */
    @Override
    public List<Tensor> trainable() {
        return weight.requiresGrad() ? List.of(weight) : List.of();
    }

    @Override
    public int inFeatures() {
        return weight.dim(1);
    }

    @Override
    public int outFeatures() {
        return weight.dim(0);
    }

    /** x of shape (..., in) to y of shape (..., out). */
    @Override
    public Tensor forward(Tensor x) {
        return unflatten(forwardRows(flatten(x)), x);
    }

    /** y = x·Wᵀ for x already a checked (tokens x in) matrix (see {@link #flatten}), recorded by autograd. */
    public Tensor forwardRows(Tensor x2) {
        return MatMul.matmul(x2, false, weight, true);
    }

    @Override
    public Tensor denseWeight() {
        return weight;
    }

    @Override
    public Device device() {
        return weight.device();
    }

    @Override
    public DType computeType() {
        return weight.dtype();
    }

    @Override
    public Tensor forwardRaw(Tensor x2) {
        Tensor y = Tensor.empty(x2.device(), x2.dtype(), x2.dim(0), outFeatures());
        Backends.of(x2.device()).gemm(false, true, 1f, x2, weight, 0f, y);
        return y;
    }

    @Override
    public Tensor backwardRaw(Tensor dy) {
        Tensor dx = Tensor.empty(dy.device(), dy.dtype(), dy.dim(0), inFeatures());
        Backends.of(dy.device()).gemm(false, false, 1f, dy, weight, 0f, dx);
        return dx;
    }

    /** Adds ΔW into the weight itself, in place. */
    @Override
    public void mergeDelta(Consumer<Tensor> addDelta) {
        weight.requireWritable("merging into layer '" + name + "'");
        addDelta.accept(weight);
    }

    @Override
    public void unmergeDelta(Consumer<Tensor> subtractDelta) {
        subtractDelta.accept(weight);
    }

    @Override
    public Tensor flatten(Tensor x) {
        return LinearInputs.flatten(name, inFeatures(), x, true);
    }

    @Override
    public Tensor flattenUnchecked(Tensor x) {
        return LinearInputs.flatten(name, inFeatures(), x, false);
    }

    @Override
    public Tensor unflatten(Tensor y, Tensor x) {
        return LinearInputs.unflatten(outFeatures(), y, x);
    }

    @Override
    public Map<String, Tensor> namedTensors() {
        return Map.of("weight", weight);
    }

    @Override
    public void train(boolean training) {
        // no dropout or batch statistics of its own
    }
}
