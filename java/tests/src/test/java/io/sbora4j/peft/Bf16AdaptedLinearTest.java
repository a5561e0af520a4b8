package io.sbora4j.peft;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sbora4j.autograd.Autograd;
import io.sbora4j.nn.Linear;
import io.sbora4j.ops.Casts;
import io.sbora4j.ops.Reductions;
import io.sbora4j.tensor.BFloat16;
import io.sbora4j.tensor.DType;
import io.sbora4j.tensor.Device;
import io.sbora4j.tensor.Tensor;
import io.sbora4j.testing.Rand;
import java.lang.foreign.Arena;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Mixed precision: a bf16 layer (bf16 weight, inputs and outputs; f32 adapter factors and their gradients) gives
 * what the f32 layer gives on the same values, within bf16 rounding, on both routes through the SBoRA adapters
 * (cpu: gather then GEMM; reference: the fused gather/scatter GEMMs), and its merges stay regional bit for bit.
 */
class Bf16AdaptedLinearTest {

    private static final int OUT = 24, IN = 20, T = 6, R = 4;

    private static float[] bf16Values(SplittableRandom rng, int n, double scale) {
        float[] v = Rand.floats(rng, n, scale);
        for (int i = 0; i < n; i++) {
            v[i] = BFloat16.round(v[i]); // the same numbers in both precisions
        }
        return v;
    }

    private record Run(float[] y, List<float[]> grads) {}

    private static Run run(AdapterMethod m, Device d, DType type) {
        SplittableRandom rng = new SplittableRandom(5);
        float[] w = bf16Values(rng, OUT * IN, 0.5), x = bf16Values(rng, T * IN, 1), dy = bf16Values(rng, T * OUT, 1);
        AdaptedLinear layer = AdaptedLinear.attach(
                new Linear("blk.q", Tensor.of(Arena.ofAuto(), d, type, w, OUT, IN)),
                AdapterConfig.of(m, R, 2 * R),
                Arena.ofAuto());
        SplittableRandom init = new SplittableRandom(6);
        for (Tensor t : layer.trainable()) {
            assertEquals(DType.F32, t.dtype(), "trained factors are f32 master weights");
            t.copyFrom(Rand.floats(init, (int) t.numel(), 0.4));
        }
        Tensor xt = Tensor.of(d, type, x, T, IN).requiresGrad(true);
        Tensor y = layer.forward(xt);
        assertEquals(type, y.dtype());
        Autograd.backward(y, Tensor.of(d, type, dy, T, OUT));
        assertEquals(type, xt.grad().dtype(), "a gradient has its tensor's type");
        List<float[]> g = new ArrayList<>(List.of(xt.grad().toFloatArray()));
        for (Tensor t : layer.trainable()) {
            assertEquals(DType.F32, t.grad().dtype());
            g.add(t.grad().toFloatArray());
        }
        return new Run(y.toFloatArray(), g);
    }

    private static void close(String what, float[] e, float[] a, double tol) {
        assertEquals(e.length, a.length);
        double scale = 0;
        for (float v : e) {
            scale = Math.max(scale, Math.abs(v));
        }
        for (int i = 0; i < e.length; i++) {
            assertTrue(
                    Math.abs(e[i] - a[i]) <= tol * Math.max(1, scale), what + " at " + i + ": " + e[i] + " vs " + a[i]);
        }
    }

    @ParameterizedTest
    @MethodSource("io.sbora4j.testing.Methods#bf16Capable")
    void bf16LayerMatchesTheF32LayerOnBothRoutes(AdapterMethod m) {
        Run f32 = run(m, Device.CPU, DType.F32);
        for (Device d : new Device[] {Device.CPU, Device.REFERENCE}) {
            Run bf = run(m, d, DType.BF16);
            close(m + " y on " + d, f32.y(), bf.y(), 1.5e-2);
            for (int i = 0; i < f32.grads().size(); i++) {
                close(
                        m + " gradient " + i + " on " + d,
                        f32.grads().get(i),
                        bf.grads().get(i),
                        2e-2);
            }
        }
    }

    @ParameterizedTest
    @MethodSource("io.sbora4j.testing.Methods#sbora")
    void mergingIntoABf16WeightChangesOnlyTheIndexedColumnsOrRows(AdapterMethod m) {
        SplittableRandom rng = new SplittableRandom(7);
        Tensor w = Tensor.of(Arena.ofAuto(), Device.CPU, DType.BF16, Rand.floats(rng, OUT * IN, 0.5), OUT, IN);
        short[] before = w.data().toArray(ValueLayout.JAVA_SHORT);
        AdaptedLinear layer =
                AdaptedLinear.attach(new Linear("blk.v", w), AdapterConfig.of(m, R, 2 * R), Arena.ofAuto());
        for (Tensor t : layer.trainable()) {
            t.copyFrom(Rand.floats(rng, (int) t.numel(), 0.4));
        }
        int[] idx = m == AdapterMethods.SBORA_FA
                ? ((SboraFaAdapter) layer.adapter()).indices()
                : ((SboraFbAdapter) layer.adapter()).indices();
        layer.merge();
        short[] after = w.data().toArray(ValueLayout.JAVA_SHORT);
        int changed = 0;
        for (int o = 0; o < OUT; o++) {
            for (int i = 0; i < IN; i++) {
                int touched = m == AdapterMethods.SBORA_FA ? i : o;
                boolean inRegion = Arrays.stream(idx).anyMatch(v -> v == touched);
                if (!inRegion) {
                    assertEquals(before[o * IN + i], after[o * IN + i], "untouched element (" + o + ", " + i + ")");
                } else if (before[o * IN + i] != after[o * IN + i]) {
                    changed++;
                }
            }
        }
        assertTrue(changed > 0, "the indexed region changed");
    }

    @Test
    void doraRefusesABf16Weight() {
        Tensor w = Tensor.of(Arena.ofAuto(), Device.CPU, DType.BF16, new float[OUT * IN], OUT, IN);
        var e = assertThrows(
                IllegalArgumentException.class,
                () -> AdaptedLinear.attach(
                        new Linear("blk.o", w), AdapterConfig.of(AdapterMethods.DORA, R, 2 * R), Arena.ofAuto()));
        assertTrue(e.getMessage().contains("DoRA needs an f32 base weight"), e.getMessage());
    }

    @Test
    void convertRoundsForwardAndConvertsTheGradientBack() {
        Tensor x = Tensor.of(Device.CPU, new float[] {1.005f, -2f, 0.1f}, 3).requiresGrad(true);
        Tensor h = Casts.convert(x, DType.BF16);
        assertEquals(DType.BF16, h.dtype());
        assertEquals(1.0078125f, h.toFloatArray()[0]);
        Autograd.backward(Reductions.sum(Casts.convert(h, DType.F32)));
        assertEquals(DType.F32, x.grad().dtype());
        assertEquals(
                List.of(1f, 1f, 1f),
                List.of(
                        x.grad().toFloatArray()[0],
                        x.grad().toFloatArray()[1],
                        x.grad().toFloatArray()[2]));
        assertThrows(IllegalArgumentException.class, () -> Casts.convert(x, DType.I32));
    }
}
