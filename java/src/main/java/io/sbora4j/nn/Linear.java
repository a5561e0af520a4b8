package io.sbora4j.nn;

import io.sbora4j.ops.MatMul;
import io.sbora4j.ops.Shapes;
import io.sbora4j.tensor.DType;
import io.sbora4j.tensor.Tensor;
import java.util.Arrays;
import java.util.Map;

/**
 * {@code y = x · Wᵀ} with W of shape (out, in), as {@code torch.nn.Linear(in, out, bias=False)}: the layers of a
 * LLaMA model. The weight is usually frozen (adapters train beside it).
 */
public final class Linear implements Module {

    private final String name;
    private final Tensor weight;

    /** A layer over {@code weight} (out x in); {@code name} is its path in the model, used in messages. */
    public Linear(String name, Tensor weight) {
        if (weight.rank() != 2 || weight.dtype() != DType.F32) {
            throw new IllegalArgumentException("layer '" + name + "': weight must be an f32 matrix, got "
                    + weight.describe());
        }
        this.name = name;
        this.weight = weight;
    }

    public String name() {
        return name;
    }

    public Tensor weight() {
        return weight;
    }

    public int inFeatures() {
        return weight.dim(1);
    }

    public int outFeatures() {
        return weight.dim(0);
    }

    /** x of shape (..., in) to y of shape (..., out). */
    public Tensor forward(Tensor x) {
        Tensor x2 = flatten(x);
        Tensor y = MatMul.matmul(x2, false, weight, true);
        return unflatten(y, x);
    }

    /** x viewed as a (tokens x in) matrix; fails with the layer's name when the last dimension is wrong. */
    public Tensor flatten(Tensor x) {
        if (x.rank() < 1 || x.shape().cols() != inFeatures()) {
            throw new IllegalArgumentException("layer '" + name + "': input shape " + x.shape()
                    + " does not end in in_features=" + inFeatures());
        }
        return x.rank() == 2 ? x : Shapes.reshape(x, (int) x.shape().rows(), inFeatures());
    }

    /** y (tokens x out) given back the leading dimensions of x. */
    public Tensor unflatten(Tensor y, Tensor x) {
        if (x.rank() == 2) {
            return y;
        }
        int[] dims = x.shape().dims();
        int[] out = Arrays.copyOf(dims, dims.length);
        out[out.length - 1] = outFeatures();
        return Shapes.reshape(y, out);
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
