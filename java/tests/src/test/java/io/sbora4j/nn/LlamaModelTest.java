package io.sbora4j.nn;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sbora4j.autograd.Autograd;
import io.sbora4j.ops.Losses;
import io.sbora4j.optim.AdamW;
import io.sbora4j.tensor.Device;
import io.sbora4j.tensor.Tensor;
import java.lang.foreign.Arena;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

class LlamaModelTest {

    /** Logit parity with an independent implementation of HF's LlamaForCausalLM: max |Δ| <= 1e-4 in f32. */
    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void logitsEqualAnIndependentImplementationOfHfLlama(boolean tied) {
        LlamaConfig cfg = new LlamaConfig(97, 48, 80, 2, 6, 2, 1e-5, 10000, 64, tied);
        // larger-than-initialiser weights make every layer matter to the logits
        LlamaModel model = scaled(cfg, 0.2, 3);
        Map<String, float[]> weights = new LinkedHashMap<>();
        model.namedTensors().forEach((k, v) -> weights.put(k, v.toFloatArray()));
        HfLlamaReference ref = new HfLlamaReference(cfg, weights);
        int[][] seqs = {{5, 17, 42, 96, 0, 3, 3, 8, 61, 20, 11}, {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}};
        int seq = seqs[0].length;
        int[] flat = new int[2 * seq];
        System.arraycopy(seqs[0], 0, flat, 0, seq);
        System.arraycopy(seqs[1], 0, flat, seq, seq);
        float[] logits = model.logits(Tensor.ofInts(Device.CPU, flat, 2, seq)).toFloatArray();
        double maxDiff = 0, maxAbs = 0;
        for (int b = 0; b < 2; b++) {
            double[][] expected = ref.logits(seqs[b]);
            for (int t = 0; t < seq; t++) {
                for (int v = 0; v < cfg.vocabSize(); v++) {
                    double e = expected[t][v];
                    maxDiff = Math.max(maxDiff, Math.abs(e - logits[(b * seq + t) * cfg.vocabSize() + v]));
                    maxAbs = Math.max(maxAbs, Math.abs(e));
                }
            }
        }
        assertTrue(maxAbs > 0.5, "logits too small to compare meaningfully: " + maxAbs);
        assertTrue(maxDiff <= 1e-4, "max |logit difference| " + maxDiff + " (largest logit " + maxAbs + ")");
    }

    private static LlamaModel scaled(LlamaConfig cfg, double std, long seed) {
        SplittableRandom rng = new SplittableRandom(seed);
        Map<String, Tensor> w = new LinkedHashMap<>();
        for (var e : LlamaModel.expectedShapes(cfg).entrySet()) {
            int n = 1;
            for (int d : e.getValue()) {
                n *= d;
            }
            float[] v = new float[n];
            for (int i = 0; i < n; i++) {
                v[i] = e.getKey().endsWith("norm.weight")
                        ? (float) (1 + 0.1 * rng.nextGaussian())
                        : (float) (rng.nextGaussian() * std);
            }
            w.put(e.getKey(), Tensor.of(Arena.ofAuto(), Device.CPU, v, e.getValue()));
        }
        return LlamaModel.of(cfg, w, Device.CPU, Arena.ofAuto());
    }

    @ParameterizedTest
    @MethodSource("io.sbora4j.testing.HostDevices#cpuAndReference")
    void trainingStepsLowerTheLossOfARepeatedSequence(Device d) {
        LlamaConfig cfg = new LlamaConfig(31, 32, 64, 2, 4, 2, 1e-6, 10000, 32, false);
        LlamaModel model = LlamaModel.random(cfg, 1, d, Arena.ofAuto());
        model.setTrainable(true);
        int[] ids = {3, 7, 1, 9, 3, 7, 1, 9, 3, 7, 1, 9};
        Tensor in = Tensor.ofInts(d, Arrays.copyOf(ids, 11), 1, 11);
        Tensor target = Tensor.ofInts(d, Arrays.copyOfRange(ids, 1, 12), 11);
        float first = 0, last = 0;
        try (var opt = new AdamW(model.trainableWeights(), AdamW.Config.lr(1e-2))) {
            for (int step = 0; step < 30; step++) {
                Tensor loss = Losses.crossEntropy(model.logits(in), target, -100);
                if (step == 0) {
                    first = loss.item();
                }
                last = loss.item();
                Autograd.backward(loss);
                opt.step();
                opt.zeroGrad();
            }
        }
        assertTrue(last < first * 0.3, "loss " + first + " -> " + last);
    }

    @Test
    void rejectsMissingMisshapenAndUnknownTensors() {
        LlamaConfig cfg = LlamaConfig.tiny(50);
        Map<String, Tensor> w = new LinkedHashMap<>(
                LlamaModel.random(cfg, 1, Device.CPU, Arena.ofAuto()).namedTensors());
        Map<String, Tensor> missing = new LinkedHashMap<>(w);
        missing.remove("model.layers.1.mlp.up_proj.weight");
        var e = assertThrows(
                IllegalArgumentException.class, () -> LlamaModel.of(cfg, missing, Device.CPU, Arena.ofAuto()));
        assertTrue(e.getMessage().contains("model.layers.1.mlp.up_proj.weight"), e.getMessage());
        Map<String, Tensor> extra = new LinkedHashMap<>(w);
        extra.put("model.layers.9.mlp.up_proj.weight", Tensor.zeros(Device.CPU, 1));
        e = assertThrows(IllegalArgumentException.class, () -> LlamaModel.of(cfg, extra, Device.CPU, Arena.ofAuto()));
        assertTrue(e.getMessage().contains("model.layers.9"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> new LlamaConfig(10, 30, 8, 1, 4, 2, 1e-6, 1e4, 8, false));
        assertEquals(
                List.of(
                        "self_attn.q_proj",
                        "self_attn.k_proj",
                        "self_attn.v_proj",
                        "self_attn.o_proj",
                        "mlp.gate_proj",
                        "mlp.up_proj",
                        "mlp.down_proj"),
                LlamaModel.PROJECTIONS);
    }
}
