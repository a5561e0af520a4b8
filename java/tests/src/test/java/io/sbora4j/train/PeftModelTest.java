package io.sbora4j.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sbora4j.autograd.NoGrad;
import io.sbora4j.nn.Linear;
import io.sbora4j.nn.LinearLayer;
import io.sbora4j.nn.LlamaConfig;
import io.sbora4j.nn.LlamaModel;
import io.sbora4j.peft.AdaptedLinear;
import io.sbora4j.peft.AdapterConfig;
import io.sbora4j.peft.AdapterMethod;
import io.sbora4j.peft.AdapterMethods;
import io.sbora4j.peft.PeftModel;
import io.sbora4j.tensor.Device;
import io.sbora4j.tensor.Tensor;
import java.lang.foreign.Arena;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** Adapter injection into a whole LLaMA: what is targeted, what is counted, merge and unload. */
class PeftModelTest {

    static final LlamaConfig CFG = new LlamaConfig(259, 32, 64, 2, 4, 2, 1e-6, 10000, 64, false);

    static LlamaModel model(Arena arena) {
        return LlamaModel.random(CFG, 3, Device.CPU, arena);
    }

    /** Gives every trainable adapter tensor random values, so that the adapters change the output. */
    static void perturb(PeftModel<LlamaModel> peft, long seed) {
        SplittableRandom rng = new SplittableRandom(seed);
        for (AdaptedLinear a : peft.adapted().values()) {
            for (Tensor t : a.trainable()) {
                float[] v = t.toFloatArray();
                boolean magnitude = t.name() != null && t.name().endsWith("magnitude");
                for (int i = 0; i < v.length; i++) {
                    double u = rng.nextDouble() * 2 - 1;
                    v[i] = magnitude ? (float) (v[i] * (1 + 0.2 * u)) : (float) (0.1 * u);
                }
                t.copyFrom(v);
            }
        }
    }

    static float[] logits(LlamaModel m) {
        try (NoGrad ignored = NoGrad.enter()) {
            return m.logits(Tensor.ofInts(Device.CPU, new int[] {256, 72, 105, 33, 10, 65, 58, 32}, 2, 4))
                    .toFloatArray();
        }
    }

    @Test
    void injectAdaptsOnlyTheNamedModules() {
        try (Arena arena = Arena.ofConfined()) {
            var peft = PeftModel.inject(
                    model(arena),
                    AdapterConfig.of(AdapterMethods.LORA, 2, 4).withTargets(List.of("q_proj", "v_proj")),
                    arena);
            assertEquals(
                    List.of(
                            "model.layers.0.self_attn.q_proj",
                            "model.layers.0.self_attn.v_proj",
                            "model.layers.1.self_attn.q_proj",
                            "model.layers.1.self_attn.v_proj"),
                    List.copyOf(peft.adapted().keySet()));
            int adapted = 0;
            for (var e : peft.model().linearLayers().entrySet()) {
                boolean target = e.getKey().endsWith("q_proj") || e.getKey().endsWith("v_proj");
                assertEquals(target, e.getValue() instanceof AdaptedLinear, e.getKey());
                adapted += target ? 1 : 0;
            }
            assertEquals(2 * CFG.layers(), adapted);
        }
    }

    @Test
    void injectByDefaultAdaptsAllSevenProjections() {
        try (Arena arena = Arena.ofConfined()) {
            var peft = PeftModel.inject(model(arena), AdapterConfig.of(AdapterMethods.SBORA_FA, 2, 4), arena);
            assertEquals(7 * CFG.layers(), peft.adapted().size());
        }
    }

    @Test
    void injectFreezesTheBaseModel() {
        try (Arena arena = Arena.ofConfined()) {
            LlamaModel m = model(arena);
            m.setTrainable(true);
            PeftModel.inject(m, AdapterConfig.of(AdapterMethods.LORA, 2, 4), arena);
            assertTrue(m.trainableWeights().isEmpty());
        }
    }

    @ParameterizedTest
    @MethodSource("io.sbora4j.testing.Methods#all")
    void reportCountsAdapterParametersAsTrainableAndBasePlusAdapterAsTotal(AdapterMethod method) {
        try (Arena arena = Arena.ofConfined()) {
            LlamaModel m = model(arena);
            long base = 0;
            for (Tensor t : m.namedTensors().values()) {
                base += t.numel();
            }
            var peft = PeftModel.inject(
                    m, AdapterConfig.of(method, 2, 4).withTargets(List.of("q_proj", "v_proj", "down_proj")), arena);
            long trainable = 0;
            for (AdaptedLinear a : peft.adapted().values()) {
                trainable += a.adapter().trainableCount();
                assertEquals(
                        method.trainableParameters(a.outFeatures(), a.inFeatures(), 2),
                        a.adapter().trainableCount(),
                        a.name());
            }
            long sumOfTrainable =
                    peft.trainable().stream().mapToLong(Tensor::numel).sum();
            assertEquals(trainable, sumOfTrainable);
            assertEquals(trainable, peft.report().trainable());
            assertEquals(base + trainable, peft.report().total());
            assertEquals(100.0 * trainable / (base + trainable), peft.report().percent(), 1e-12);
        }
    }

    @Test
    void reportOfLoraMatchesAHandCount() {
        try (Arena arena = Arena.ofConfined()) {
            var peft = PeftModel.inject(
                    model(arena),
                    AdapterConfig.of(AdapterMethods.LORA, 2, 4).withTargets(List.of("q_proj", "v_proj")),
                    arena);
            // q_proj 32x32: 2·(32+32) = 128; v_proj 16x32 (2 kv heads of 8): 2·(32+16) = 96; two layers
            assertEquals(2 * (128 + 96), peft.report().trainable());
        }
    }

    @Test
    void targetsThatMatchNothingAreAnError() {
        try (Arena arena = Arena.ofConfined()) {
            LlamaModel m = model(arena);
            IllegalArgumentException e = assertThrows(
                    IllegalArgumentException.class,
                    () -> PeftModel.inject(
                            m,
                            AdapterConfig.of(AdapterMethods.LORA, 2, 4).withTargets(List.of("query", "value")),
                            arena));
            assertTrue(e.getMessage().contains("query"), e.getMessage());
            for (LinearLayer l : m.linearLayers().values()) {
                assertInstanceOf(Linear.class, l, "nothing was replaced");
            }
        }
    }

    @Test
    void unloadPutsThePlainLinearsBack() {
        try (Arena arena = Arena.ofConfined()) {
            LlamaModel m = model(arena);
            Map<String, LinearLayer> before = Map.copyOf(m.linearLayers());
            var peft = PeftModel.inject(m, AdapterConfig.of(AdapterMethods.DORA, 2, 4), arena);
            assertSame(m, peft.unload());
            for (var e : m.linearLayers().entrySet()) {
                assertInstanceOf(Linear.class, e.getValue(), e.getKey());
                assertSame(before.get(e.getKey()), e.getValue(), e.getKey());
            }
        }
    }

    @ParameterizedTest
    @MethodSource("io.sbora4j.testing.Methods#all")
    void theMergedModelComputesTheAdaptedForward(AdapterMethod method) {
        try (Arena arena = Arena.ofConfined()) {
            LlamaModel m = model(arena);
            float[] base = logits(m);
            var peft = PeftModel.inject(m, AdapterConfig.of(method, 2, 4).withSeed(9), arena);
            perturb(peft, 5);
            peft.train(false);
            float[] adapted = logits(m);
            assertFalse(Arrays.equals(base, adapted), "the adapters change the output");
            peft.mergeAll();
            for (AdaptedLinear a : peft.adapted().values()) {
                assertTrue(a.isMerged());
            }
            assertArrayEquals(adapted, logits(m), 1e-4f, "merged");
            assertArrayEquals(adapted, logits(peft.unload()), 1e-4f, "merged and unloaded");
        }
    }

    @ParameterizedTest
    @MethodSource("io.sbora4j.testing.Methods#all")
    void unmergeRestoresTheBaseWeights(AdapterMethod method) {
        try (Arena arena = Arena.ofConfined()) {
            LlamaModel m = model(arena);
            float[] base = logits(m);
            var peft = PeftModel.inject(m, AdapterConfig.of(method, 2, 4).withSeed(9), arena);
            perturb(peft, 5);
            peft.train(false);
            float[] adapted = logits(m);
            peft.mergeAll();
            peft.unmergeAll();
            assertArrayEquals(adapted, logits(m), 1e-4f, "adapted again");
            assertArrayEquals(base, logits(peft.unload()), 1e-4f, "the base weights are back");
        }
    }
}
