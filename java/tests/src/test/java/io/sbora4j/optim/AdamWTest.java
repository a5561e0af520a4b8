package io.sbora4j.optim;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.sbora4j.tensor.Device;
import io.sbora4j.tensor.Tensor;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** AdamW follows torch.optim.AdamW's update rule, checked against steps computed by hand in double. */
class AdamWTest {

    /** torch.optim.AdamW (single-tensor) for one scalar parameter, in double. */
    private static double[] handComputed(
            double p, double[] grads, double lr, double b1, double b2, double eps, double wd) {
        double m = 0, v = 0;
        double[] out = new double[grads.length];
        for (int t = 1; t <= grads.length; t++) {
            double g = grads[t - 1];
            p *= 1 - lr * wd; // decoupled weight decay
            m = b1 * m + (1 - b1) * g;
            v = b2 * v + (1 - b2) * g * g;
            double mHat = m / (1 - Math.pow(b1, t));
            double denom = Math.sqrt(v) / Math.sqrt(1 - Math.pow(b2, t)) + eps; // eps outside the sqrt
            p -= lr * mHat / denom;
            out[t - 1] = p;
        }
        return out;
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
