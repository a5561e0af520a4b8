package io.sbora4j.testing;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

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
 * element is perturbed by ±h and the central difference (L(+h) - L(-h)) / 2h, summed in double, must agree within a
 * relative tolerance: |analytic - numeric| ≤ rtol · (|numeric| + {@value #FLOOR} · rms), rms being the RMS numeric
 * gradient of the elements checked in that input. The floor keeps the finite differences' noise (float rounding of
 * f over 2h) on elements far smaller than the rest from failing the check; everywhere else the check is relative,
 * so a backward that is off by a constant factor of 1 + 2·rtol fails it whatever the gradients' magnitude
 * (GradCheckTest shows a gradient scaled by 1.01 failing).
 */
public final class GradCheck {

    /** The part of an input's RMS gradient below which an element's error is judged against that, not itself. */
    public static final double FLOOR = 0.25;

    private GradCheck() {}

    /**
     * Checks every element of every input (at most {@code maxPerInput} elements each, spread evenly).
     *
     * @param f       recomputes the output from the current contents of {@code inputs}
     * @param inputs  leaf tensors with requiresGrad set; perturbed in place and restored
     * @param h       the finite-difference step
     * @param rtol    the relative tolerance (float finite differences with h = 1e-2 reach about 1e-5 to 2e-3)
     */
    public static void check(
            String what, Supplier<Tensor> f, List<Tensor> inputs, double h, double rtol, int maxPerInput) {
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
            int count = (int) ((n + stride - 1) / stride);
            double[] numeric = new double[count];
            double sumSq = 0;
            for (int j = 0; j < count; j++) {
                numeric[j] = centralDifference(in, j * stride, f, g, h);
                sumSq += numeric[j] * numeric[j];
            }
            double rms = Math.sqrt(sumSq / count);
            for (int j = 0; j < count; j++) {
                long i = j * stride;
                double a = analytic[(int) i];
                double err = Math.abs(numeric[j] - a);
                double bound = rtol * (Math.abs(numeric[j]) + FLOOR * rms);
                if (!(err <= bound)) {
                    fail(what + ": input " + k + " element " + i + ": analytic " + a + " vs numeric " + numeric[j]
                            + " (error " + err + ", relative " + err / Math.abs(numeric[j]) + "; allowed " + bound
                            + " = " + rtol + " · (|numeric| + " + FLOOR + " · rms " + rms + "))");
                }
            }
        }
    }

    /** (L(x_i + h) - L(x_i - h)) / 2h, with the step the float input actually took. */
    private static double centralDifference(Tensor in, long i, Supplier<Tensor> f, float[] g, double h) {
        float orig = in.getFloat(i);
        in.setFloat(i, orig + (float) h);
        double lp = loss(f, g);
        in.setFloat(i, orig - (float) h);
        double lm = loss(f, g);
        in.setFloat(i, orig);
        double hEff = ((double) (orig + (float) h) - (double) (orig - (float) h)) / 2;
        return (lp - lm) / (2 * hEff);
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
