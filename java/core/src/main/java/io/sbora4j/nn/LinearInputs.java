package io.sbora4j.nn;

import io.sbora4j.backend.Backends;
import io.sbora4j.ops.Shapes;
import io.sbora4j.tensor.Tensor;
import java.util.Arrays;

/** The input and output shaping every linear layer shares: (..., in) rows in, (..., out) rows out. */
public final class LinearInputs {

    private LinearInputs() {}

    /**
     * x (..., in) viewed as a (tokens x in) matrix. With {@code checkFinite}, every value must be finite: a NaN or
     * infinity would otherwise surface steps later as a NaN loss with no trace of the layer it passed; the check is
     * one read of x, small beside the GEMM that follows (1/out of its work).
     */
    public static Tensor flatten(String layer, int in, Tensor x, boolean checkFinite) {
        if (x.rank() < 1 || x.shape().cols() != in) {
            throw new IllegalArgumentException(
                    "layer '" + layer + "': input shape " + x.shape() + " does not end in in_features=" + in);
        }
        if (checkFinite) {
            long bad = Backends.of(x.device()).countNonFinite(x);
            if (bad > 0) {
                throw new IllegalArgumentException(
                        "layer '" + layer + "': input has " + bad + " non-finite values (NaN or infinity)");
            }
        }
        return x.rank() == 2 ? x : Shapes.reshape(x, (int) x.shape().rows(), in);
    }

    /** y (tokens x out) given back the leading dimensions of x. */
    public static Tensor unflatten(int out, Tensor y, Tensor x) {
        if (x.rank() == 2) {
            return y;
        }
        int[] dims = Arrays.copyOf(x.shape().dims(), x.rank());
        dims[dims.length - 1] = out;
        return Shapes.reshape(y, dims);
    }
}
