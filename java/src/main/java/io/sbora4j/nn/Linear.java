package io.sbora4j.nn;

import io.sbora4j.backend.Backends;
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
public final class Linear implements LinearLayer {

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

    @Override
    public String name() {
        return name;
    }

    public Tensor weight() {
        return weight;
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

    /** y = x·Wᵀ for x already a checked (tokens x in) matrix (see {@link #flatten}). */
    public Tensor forwardRows(Tensor x2) {
        return MatMul.matmul(x2, false, weight, true);
    }

    /**
     * x viewed as a (tokens x in) matrix, checked: the last dimension must be {@code in} and every value finite. A
     * NaN or infinity would otherwise surface steps later as a NaN loss with no trace of the layer it passed; the
     * check is one read of x, small beside the GEMM that follows (1/out of its work).
     */
    public Tensor flatten(Tensor x) {
        Tensor x2 = flattenUnchecked(x);
        long bad = Backends.of(x.device()).countNonFinite(x);
        if (bad > 0) {
            throw new IllegalArgumentException("layer '" + name + "': input has " + bad
                    + " non-finite values (NaN or infinity)");
        }
        return x2;
    }

    /** {@link #flatten} without the scan for non-finite values (the shape is still checked). */
    public Tensor flattenUnchecked(Tensor x) {
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
