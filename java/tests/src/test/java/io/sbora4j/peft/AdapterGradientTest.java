package io.sbora4j.peft;

import io.sbora4j.nn.Linear;
import io.sbora4j.tensor.Device;
import io.sbora4j.tensor.Tensor;
import io.sbora4j.testing.GradCheck;
import io.sbora4j.testing.Rand;
import java.lang.foreign.Arena;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** The fused forward/backward of every adapter method agrees with finite differences, for x and every parameter. */
class AdapterGradientTest {

    static AdaptedLinear layer(AdapterMethod m, Device d, int out, int in, int r, long seed) {
        SplittableRandom rng = new SplittableRandom(seed);
        Tensor w = Tensor.of(Arena.ofAuto(), d, Rand.floats(rng, out * in, 0.5), out, in);
        AdaptedLinear layer =
                AdaptedLinear.attach(new Linear("blk.proj", w), AdapterConfig.of(m, r, 2.0 * r), Arena.ofAuto());
        // B (and A for SBoRA-FB) start at zero; random values exercise every term of the gradient
        for (Tensor t : layer.trainable()) {
            if (!t.name().endsWith("magnitude")) {
                t.copyFrom(Rand.floats(rng, (int) t.numel(), 0.5));
            }
        }
        return layer;
    }

    @ParameterizedTest
    @MethodSource("io.sbora4j.testing.Methods#all")
    void adaptedLayerGradientsMatchFiniteDifferencesOnReference(AdapterMethod m) {
        check(m, Device.REFERENCE);
    }

    @ParameterizedTest
    @MethodSource("io.sbora4j.testing.Methods#all")
    void adaptedLayerGradientsMatchFiniteDifferencesOnCpu(AdapterMethod m) {
        check(m, Device.CPU);
    }

    private static void check(AdapterMethod m, Device d) {
        AdaptedLinear layer = layer(m, d, 7, 9, 3, 11);
        Tensor x = Rand.tensor(new SplittableRandom(12), d, 5, 9).requiresGrad(true);
        List<Tensor> inputs = new ArrayList<>(List.of(x));
        inputs.addAll(layer.trainable());
        GradCheck.check(m + " on " + d, () -> layer.forward(x), inputs, 1e-2, 3e-3, 80);
    }
}
