package io.sbora4j.testing;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sbora4j.autograd.Autograd;
import io.sbora4j.autograd.NoGrad;
import io.sbora4j.tensor.MemoryScope;
import io.sbora4j.tensor.Tensor;
import java.util.List;
import java.util.SplittableRandom;
import java.util.function.Supplier;

/**
 * Finite-difference gradient check. For an op f and fixed random weights G of f's output shape, the scalar
 * L = Σ G ⊙ f(inputs) has the analytic gradient that autograd computes from {@code backward(f, G)}; each input
 * element is perturbed by ±h and the central difference (L(+h) - L(-h)) / 2h, summed in double, must agree.
 */
public final class GradCheck {

    private GradCheck() {}

    /**
     * Checks every element of every input (at most {@code maxPerInput} elements each, spread evenly).
     *
     * @param f       recomputes the output from the current contents of {@code inputs}
     * @param inputs  leaf tensors with requiresGrad set; perturbed in place and restored
     */
    public static void check(
            String what, Supplier<Tensor> f, List<Tensor> inputs, double h, double tol, int maxPerInput) {
        SplittableRandom rng = new SplittableRandom(7);
        for (Tensor in : inputs) {
            in.setGrad(null);
        }
        float[] g;
        try (MemoryScope ignored = MemoryScope.open()) {
            Tensor out = f.get();
            g = Rand.floats(rng, (int) out.numel(), 1);
            Tensor gt = Tensor.of(out.device(), g, out.shape().dims());
            Autograd.backward(out, gt);
        }
        for (int k = 0; k < inputs.size(); k++) {
            Tensor in = inputs.get(k);
            assertTrue(in.grad() != null, what + ": input " + k + " got no gradient");
            float[] analytic = in.grad().toFloatArray();
            long n = in.numel();
            long stride = Math.max(1, n / maxPerInput);
            for (long i = 0; i < n; i += stride) {
                float orig = in.getFloat(i);
                in.setFloat(i, orig + (float) h);
                double lp = loss(f, g);
                in.setFloat(i, orig - (float) h);
                double lm = loss(f, g);
                in.setFloat(i, orig);
                double hEff = ((double) (orig + (float) h) - (double) (orig - (float) h)) / 2;
                double numeric = (lp - lm) / (2 * hEff);
                double a = analytic[(int) i];
                double err = Math.abs(numeric - a);
                assertTrue(
                        err <= tol * Math.max(1, Math.abs(numeric)),
                        what + ": input " + k + " element " + i + ": analytic " + a + " vs numeric " + numeric);
            }
        }
    }

    private static double loss(Supplier<Tensor> f, float[] g) {
        try (MemoryScope ignored = MemoryScope.open();
                NoGrad ng = NoGrad.enter()) {
            float[] y = f.get().toFloatArray();
            double s = 0;
            for (int i = 0; i < y.length; i++) {
                s += (double) g[i] * y[i];
            }
            return s;
        }
    }
}
