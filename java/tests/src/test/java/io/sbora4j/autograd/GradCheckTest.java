package io.sbora4j.autograd;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sbora4j.ops.Elementwise;
import io.sbora4j.ops.MatMul;
import io.sbora4j.tensor.Device;
import io.sbora4j.tensor.Tensor;
import io.sbora4j.testing.GradCheck;
import io.sbora4j.testing.Rand;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.opentest4j.AssertionFailedError;

/**
 * The gradient check can fail: a matmul whose backward is the true one scaled by a factor passes {@link GradCheck}
 * with the factor 1 and fails it with 1.01 or 0.99, whether the gradients are of order 1 or of order 1e-2 (where a
 * check with an absolute tolerance of a few 1e-3 would let any factor between 0.7 and 1.3 through).
 */
class GradCheckTest {

    private static final double H = 1e-2;
    private static final double TOL = 3e-3;

    /** a · b with a backward scaled by {@code factor}: the op a wrong backward rule would make. */
    private static Tensor matmulWithScaledBackward(Tensor a, Tensor b, float factor) {
        Tensor out;
        try (NoGrad ng = NoGrad.enter()) {
            out = MatMul.matmul(a, b);
        }
        return Autograd.record(out, "matmul x" + factor, List.of(a, b), List.of(a, b), g -> {
            try (NoGrad ng = NoGrad.enter()) {
                Tensor ga = Elementwise.scale(MatMul.matmul(g, false, b, true), factor);
                Tensor gb = Elementwise.scale(MatMul.matmul(a, true, g, false), factor);
                return new Tensor[] {ga, gb};
            }
        });
    }

    private static void check(Device d, float magnitude, float factor) {
        SplittableRandom rng = new SplittableRandom(3);
        Tensor a = Tensor.of(d, Rand.floats(rng, 24, magnitude), 4, 6).requiresGrad(true);
        Tensor b = Tensor.of(d, Rand.floats(rng, 30, magnitude), 6, 5).requiresGrad(true);
        GradCheck.check(
                "matmul, backward x" + factor + ", inputs of order " + magnitude,
                () -> matmulWithScaledBackward(a, b, factor),
                List.of(a, b),
                H,
                TOL,
                64);
    }

    @ParameterizedTest
    @MethodSource("io.sbora4j.testing.HostDevices#cpuAndReference")
    void theRightBackwardPasses(Device d) {
        check(d, 1f, 1f);
        check(d, 1e-2f, 1f);
    }

    @ParameterizedTest
    @MethodSource("io.sbora4j.testing.HostDevices#cpuAndReference")
    void aBackwardOnePercentOffFails(Device d) {
        for (float magnitude : new float[] {1f, 1e-2f}) {
            for (float factor : new float[] {1.01f, 0.99f}) {
                AssertionFailedError e = assertThrows(AssertionFailedError.class, () -> check(d, magnitude, factor));
                assertTrue(e.getMessage().contains("analytic"), e.getMessage());
            }
        }
    }
}
