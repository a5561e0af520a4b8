package io.sbora4j.optim;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sbora4j.tensor.Device;
import io.sbora4j.tensor.Tensor;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** AdamW follows torch.optim.AdamW's update rule, checked against steps computed by hand in double. */
class AdamWTest {

    /** Where eps enters the denominator: torch's place, and the places other optimizers (or bugs) put it. */
    private enum Eps {
        /** torch.optim.AdamW: sqrt(v) / sqrt(1 - b2^t) + eps. */
        TORCH,
        /** sqrt(v / (1 - b2^t) + eps). */
        INSIDE_SQRT,
        /** sqrt(v / (1 - b2^t) + eps²). */
        SQUARED_INSIDE_SQRT,
        /** (sqrt(v) + eps) / sqrt(1 - b2^t): eps before the bias correction. */
        BEFORE_BIAS_CORRECTION
    }

    /** torch.optim.AdamW (single-tensor) for one scalar parameter, in double. */
    private static double[] handComputed(
            double p, double[] grads, double lr, double b1, double b2, double eps, double wd) {
        return handComputed(p, grads, lr, b1, b2, eps, wd, Eps.TORCH);
    }

    private static double[] handComputed(
            double p, double[] grads, double lr, double b1, double b2, double eps, double wd, Eps placement) {
        double m = 0, v = 0;
        double[] out = new double[grads.length];
        for (int t = 1; t <= grads.length; t++) {
            double g = grads[t - 1];
            p *= 1 - lr * wd; // decoupled weight decay
            m = b1 * m + (1 - b1) * g;
            v = b2 * v + (1 - b2) * g * g;
            double mHat = m / (1 - Math.pow(b1, t));
            double bc2 = 1 - Math.pow(b2, t);
            double denom = switch (placement) {
                case TORCH -> Math.sqrt(v) / Math.sqrt(bc2) + eps; // eps outside the sqrt
                case INSIDE_SQRT -> Math.sqrt(v / bc2 + eps);
                case SQUARED_INSIDE_SQRT -> Math.sqrt(v / bc2 + eps * eps);
                case BEFORE_BIAS_CORRECTION -> (Math.sqrt(v) + eps) / Math.sqrt(bc2);
            };
            p -= lr * mHat / denom;
            out[t - 1] = p;
        }
        return out;
    }

    /**
     * Gradients of the order of eps, where its place in the denominator decides the step: with |g| ≈ eps torch's
     * sqrt(v̂) + eps is about 2|g|, while eps inside the square root, eps² inside it, or eps before the bias correction
     * give steps thousands of times smaller, 1.4 times larger and up to 30 times smaller. Each displacement is
     * checked to 1e-4 of itself (plus float rounding), and the test first asserts that every other placement misses
     * by far more.
     */
    @ParameterizedTest
    @MethodSource("io.sbora4j.testing.HostDevices#cpuAndReference")
    void epsSitsOutsideTheSquareRootAfterTheBiasCorrection(Device d) {
        double lr = 0.01, b1 = 0.9, b2 = 0.999, eps = 1e-8, wd = 0.1;
        double[] grads = {1e-8, -3e-8, 2e-8, 5e-9, 1e-8, -1e-8};
        double[] scales = {1, 0.5, 4};
        float[] p0 = {0f, 0.25f, -1f};
        int n = p0.length;
        double[][] expected = new double[n][];
        for (int i = 0; i < n; i++) {
            double[] g = new double[grads.length];
            for (int t = 0; t < grads.length; t++) {
                g[t] = (float) (grads[t] * scales[i]); // the float gradient the optimizer sees
            }
            expected[i] = handComputed(p0[i], g, lr, b1, b2, eps, wd);
            for (Eps other : new Eps[] {Eps.INSIDE_SQRT, Eps.SQUARED_INSIDE_SQRT, Eps.BEFORE_BIAS_CORRECTION}) {
                double[] wrong = handComputed(p0[i], g, lr, b1, b2, eps, wd, other);
                double moved = Math.abs(expected[i][grads.length - 1] - p0[i]);
                double apart = Math.abs(wrong[grads.length - 1] - expected[i][grads.length - 1]);
                assertTrue(apart > 100 * (1e-4 * moved), other + " would differ by only " + apart + " of " + moved);
            }
        }
        Tensor p = Tensor.of(d, p0.clone(), n).requiresGrad(true);
        try (AdamW opt = new AdamW(List.of(p), new AdamW.Config(lr, b1, b2, eps, wd))) {
            for (int t = 0; t < grads.length; t++) {
                float[] g = new float[n];
                for (int i = 0; i < n; i++) {
                    g[i] = (float) (grads[t] * scales[i]);
                }
                p.setGrad(Tensor.of(d, g, n));
                opt.step();
                for (int i = 0; i < n; i++) {
                    double moved = expected[i][t] - p0[i], got = p.getFloat(i) - p0[i];
                    // 1e-4 of the displacement, plus an ulp of the parameter per step taken (float steps)
                    double tol = 1e-4 * Math.abs(moved)
                            + (t + 1) * Math.ulp((float) Math.max(Math.abs(p0[i]), Math.abs(expected[i][t])));
                    assertEquals(moved, got, tol, "param " + i + " after step " + (t + 1) + " on " + d);
                }
            }
        }
    }

    @ParameterizedTest
    @MethodSource("io.sbora4j.testing.HostDevices#cpuAndReference")
    void matchesHandComputedSteps(Device d) {
        double[] grads = {0.5, -1.25, 2.0, 1e-3, -0.75};
        double[] p0 = {1.0, -2.0, 0.0};
        Tensor p = Tensor.of(d, new float[] {1f, -2f, 0f}, 3).requiresGrad(true);
        try (AdamW opt = new AdamW(List.of(p), new AdamW.Config(0.01, 0.9, 0.999, 1e-8, 0.1))) {
            double[][] expected = new double[3][];
            for (int i = 0; i < 3; i++) {
                double[] scaled = new double[grads.length];
                for (int t = 0; t < grads.length; t++) {
                    scaled[t] = grads[t] * (i + 1);
                }
                expected[i] = handComputed(p0[i], scaled, 0.01, 0.9, 0.999, 1e-8, 0.1);
            }
            for (int t = 0; t < grads.length; t++) {
                p.setGrad(Tensor.of(
                        d, new float[] {(float) grads[t], (float) (2 * grads[t]), (float) (3 * grads[t])}, 3));
                opt.step();
                for (int i = 0; i < 3; i++) {
                    assertEquals(expected[i][t], p.getFloat(i), 2e-6, "param " + i + " after step " + (t + 1));
                }
            }
            assertEquals(grads.length, opt.stepCount());
        }
    }

    @ParameterizedTest
    @MethodSource("io.sbora4j.testing.HostDevices#cpuAndReference")
    void firstStepMovesEachParameterByAboutLrAgainstItsGradient(Device d) {
        Tensor p = Tensor.of(d, new float[] {0f, 0f}, 2).requiresGrad(true);
        try (AdamW opt = new AdamW(List.of(p), AdamW.Config.lr(0.1).withWeightDecay(0))) {
            p.setGrad(Tensor.of(d, new float[] {3f, -0.002f}, 2));
            opt.step();
            assertArrayEquals(new float[] {-0.1f, 0.1f}, p.toFloatArray(), 1e-5f);
        }
    }

    @ParameterizedTest
    @MethodSource("io.sbora4j.testing.HostDevices#cpuAndReference")
    void parametersWithoutGradientStayPut(Device d) {
        Tensor p = Tensor.of(d, new float[] {1f}, 1).requiresGrad(true);
        try (AdamW opt = new AdamW(List.of(p), AdamW.Config.lr(0.1))) {
            opt.step();
            assertEquals(1f, p.getFloat(0));
        }
    }

    @Test
    void rejectsBadHyperParametersAndFrozenTensors() {
        assertThrows(IllegalArgumentException.class, () -> AdamW.Config.lr(Double.NaN));
        assertThrows(IllegalArgumentException.class, () -> new AdamW.Config(1e-3, 1.0, 0.999, 1e-8, 0));
        assertThrows(IllegalArgumentException.class, () -> new AdamW.Config(1e-3, 0.9, 0.999, 0, 0));
        assertThrows(
                IllegalArgumentException.class,
                () -> new AdamW(List.of(Tensor.zeros(Device.CPU, 2)), AdamW.Config.lr(1e-3)));
    }
}
