package io.sbora4j.quant;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sbora4j.autograd.Autograd;
import io.sbora4j.nn.Linear;
import io.sbora4j.peft.AdaptedLinear;
import io.sbora4j.peft.AdapterConfig;
import io.sbora4j.peft.AdapterMethod;
import io.sbora4j.peft.AdapterMethods;
import io.sbora4j.peft.SboraFaAdapter;
import io.sbora4j.tensor.Device;
import io.sbora4j.tensor.Tensor;
import io.sbora4j.testing.GradCheck;
import io.sbora4j.testing.Rand;
import java.lang.foreign.Arena;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** The NF4 base layer: tiled dequantising GEMMs, adapters on top, and both merge modes. */
class QuantizedLinearTest {

    private static final int OUT = 96, IN = 128;

    private static QuantizedLinear layer(MergeMode mode, long tileBytes) {
        Tensor w = Nf4WeightTest.gaussian(Device.CPU, OUT, IN, 7);
        return QuantizedLinear.quantize(new Linear("model.layers.0.mlp.up_proj", w), mode, Arena.ofAuto(), tileBytes);
    }

    @Test
    void tiledForwardAndBackwardEqualTheDequantisedWeightsGemms() {
        QuantizedLinear whole = layer(MergeMode.REQUANTIZE, QuantizedLinear.TILE_BYTES);
        QuantizedLinear tiled = layer(MergeMode.REQUANTIZE, 4L * IN * 7); // 7 rows per tile: ragged last tile
        Tensor x = Rand.tensor(new SplittableRandom(1), Device.CPU, 5, IN);
        Tensor dy = Rand.tensor(new SplittableRandom(2), Device.CPU, 5, OUT);
        Linear dense = new Linear("dense", whole.denseWeight());
        assertArrayEquals(dense.forward(x).toFloatArray(), whole.forwardRaw(x).toFloatArray(), 1e-5f);
        assertArrayEquals(
                whole.forwardRaw(x).toFloatArray(), tiled.forwardRaw(x).toFloatArray(), 1e-5f);
        assertArrayEquals(
                whole.backwardRaw(dy).toFloatArray(), tiled.backwardRaw(dy).toFloatArray(), 1e-5f);
    }

    @Test
    void quantisedForwardStaysWithinTheDocumentedErrorOfTheF32Forward() {
        Tensor w = Nf4WeightTest.gaussian(Device.CPU, 256, 512, 9);
        QuantizedLinear q = QuantizedLinear.quantize(new Linear("l", w), MergeMode.OVERLAY, Arena.ofAuto());
        Tensor x = Rand.tensor(new SplittableRandom(3), Device.CPU, 16, 512);
        float[] exact = new Linear("l", w).forward(x).toFloatArray(),
                approx = q.forward(x).toFloatArray();
        double num = 0, den = 0;
        for (int i = 0; i < exact.length; i++) {
            num += Math.pow(exact[i] - approx[i], 2);
            den += Math.pow(exact[i], 2);
        }
        double rel = Math.sqrt(num / den);
        // NF4 of Gaussian weights: ~9-10% relative RMS error of W, which carries over to x·Wᵀ (docs/quantization)
        assertTrue(rel < 0.12, "relative RMS error of the NF4 forward: " + rel);
    }

    @ParameterizedTest
    @MethodSource("io.sbora4j.testing.Methods#all")
    void adaptersOnTheQuantisedBaseMatchFiniteDifferences(AdapterMethod m) {
        QuantizedLinear base = layer(MergeMode.OVERLAY, 4L * IN * 10);
        AdaptedLinear a = AdaptedLinear.attach(base, AdapterConfig.of(m, 3, 6), Arena.ofAuto());
        SplittableRandom rng = new SplittableRandom(4);
        for (Tensor t : a.trainable()) {
            if (!t.name().endsWith("magnitude")) {
                t.copyFrom(Rand.floats(rng, (int) t.numel(), 0.3));
            }
        }
        Tensor x = Rand.tensor(rng, Device.CPU, 4, IN).requiresGrad(true);
        List<Tensor> inputs = new ArrayList<>(List.of(x));
        inputs.addAll(a.trainable());
        GradCheck.check("q" + m, () -> a.forward(x), inputs, 1e-2, 5e-3, 60);
    }

    @Test
    void requantizingMergeLeavesUntouchedBlocksByteIdenticalAndUnmergeRestoresEveryByte() {
        QuantizedLinear base = layer(MergeMode.REQUANTIZE, QuantizedLinear.TILE_BYTES);
        AdaptedLinear a = AdaptedLinear.attach(base, AdapterConfig.of(AdapterMethods.SBORA_FA, 4, 8), Arena.ofAuto());
        a.trainable().getFirst().copyFrom(Rand.floats(new SplittableRandom(5), OUT * 4, 0.05));
        byte[] before = base.nf4().packed().data().toArray(ValueLayout.JAVA_BYTE);
        byte[] codesBefore = base.nf4().absmaxCodes();
        a.merge();
        byte[] after = base.nf4().packed().data().toArray(ValueLayout.JAVA_BYTE);
        byte[] codesAfter = base.nf4().absmaxCodes();
        int[] idx = ((SboraFaAdapter) a.adapter()).indices();
        BitSet touched = new BitSet();
        for (int row = 0; row < OUT; row++) {
            for (int c : idx) {
                touched.set((row * IN + c) / Nf4Weight.BLOCK);
            }
        }
        for (int b = 0; b < base.nf4().blocks(); b++) {
            if (!touched.get(b)) {
                assertEquals(codesBefore[b], codesAfter[b], "scale code of untouched block " + b);
                for (int k = b * 32; k < (b + 1) * 32; k++) {
                    assertEquals(before[k], after[k], "byte " + k + " of untouched block " + b);
                }
            }
        }
        QuantizedLinear.MergeReport r = base.lastMerge();
        assertEquals(touched.cardinality(), r.blocksTouched());
        assertTrue(r.maxAbsError() > 0 && r.maxAbsError() < 0.05, "re-encoding error " + r.maxAbsError());
        a.unmerge();
        assertArrayEquals(before, base.nf4().packed().data().toArray(ValueLayout.JAVA_BYTE));
        assertArrayEquals(codesBefore, base.nf4().absmaxCodes());
    }

    @ParameterizedTest
    @MethodSource("io.sbora4j.testing.Methods#sboraAndLora")
    void overlayMergeComputesWhatTheAdapterDid(AdapterMethod m) {
        QuantizedLinear base = layer(MergeMode.OVERLAY, 4L * IN * 10);
        AdaptedLinear a = AdaptedLinear.attach(base, AdapterConfig.of(m, 4, 8), Arena.ofAuto());
        for (Tensor t : a.trainable()) {
            t.copyFrom(Rand.floats(new SplittableRandom(6), (int) t.numel(), 0.3));
        }
        a.train(false);
        Tensor x = Rand.tensor(new SplittableRandom(7), Device.CPU, 6, IN);
        float[] adapted = a.forward(x).toFloatArray();
        byte[] bytes = base.nf4().packed().data().toArray(ValueLayout.JAVA_BYTE);
        a.merge();
        assertArrayEquals(adapted, a.forward(x).toFloatArray(), 1e-5f, "merged forward == adapted forward");
        assertArrayEquals(bytes, base.nf4().packed().data().toArray(ValueLayout.JAVA_BYTE), "NF4 bytes untouched");
        QuantizedLinear.MergeReport r = base.lastMerge();
        if (m == AdapterMethods.SBORA_FA) {
            assertEquals(4, r.overlayColumns());
        } else if (m == AdapterMethods.SBORA_FB) {
            assertEquals(4, r.overlayRows());
        } else {
            assertTrue(r.overlayDense());
        }
        a.unmerge();
        assertArrayEquals(adapted, a.forward(x).toFloatArray(), 1e-5f);
    }

    @Test
    void dxFlowsThroughTheDequantisedWeight() {
        QuantizedLinear q = layer(MergeMode.OVERLAY, 4L * IN * 13);
        Tensor x = Rand.tensor(new SplittableRandom(8), Device.CPU, 3, IN).requiresGrad(true);
        GradCheck.check("nf4 linear", () -> q.forward(x), List.of(x), 1e-2, 3e-3, 64);
        Autograd.backward(q.forward(x), Rand.tensor(new SplittableRandom(9), Device.CPU, 3, OUT));
    }
}
