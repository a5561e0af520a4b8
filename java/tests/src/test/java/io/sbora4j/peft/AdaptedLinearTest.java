package io.sbora4j.peft;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sbora4j.autograd.Autograd;
import io.sbora4j.autograd.Node;
import io.sbora4j.nn.Linear;
import io.sbora4j.tensor.Device;
import io.sbora4j.tensor.Tensor;
import io.sbora4j.testing.Rand;
import java.lang.foreign.Arena;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

class AdaptedLinearTest {

    private static final int OUT = 24, IN = 40, TOKENS = 6, R = 4;

    private static AdaptedLinear layer(AdapterMethod m, Device d, AdapterConfig cfg) {
        Tensor w = Tensor.of(Arena.ofAuto(), d, Rand.floats(new SplittableRandom(1), OUT * IN, 1), OUT, IN);
        return AdaptedLinear.attach(new Linear("model.layers.0.self_attn.q_proj", w), cfg, Arena.ofAuto());
    }

    private static AdaptedLinear layer(AdapterMethod m) {
        return layer(m, Device.CPU, AdapterConfig.of(m, R, 8));
    }

    @Test
    void sboraFaSavesOnlyTheGatheredColumnsForBackward() {
        AdaptedLinear layer = layer(AdapterMethods.SBORA_FA);
        for (boolean xNeedsGrad : new boolean[] {false, true}) {
            Tensor x =
                    Rand.tensor(new SplittableRandom(2), Device.CPU, TOKENS, IN).requiresGrad(xNeedsGrad);
            Node node = (Node) layer.forward(x).gradFn();
            assertEquals((long) TOKENS * R * Float.BYTES, node.savedBytes(), "T x r floats, not T x in");
        }
    }

    @Test
    void loraSavesTheInputAndItsProjection_LoraFaOnlyTheProjection() {
        Tensor x = Rand.tensor(new SplittableRandom(2), Device.CPU, TOKENS, IN);
        assertEquals(
                (long) TOKENS * (IN + R) * Float.BYTES,
                ((Node) layer(AdapterMethods.LORA).forward(x).gradFn()).savedBytes());
        assertEquals(
                (long) TOKENS * R * Float.BYTES,
                ((Node) layer(AdapterMethods.LORA_FA).forward(x).gradFn()).savedBytes());
    }

    @ParameterizedTest
    @MethodSource("io.sbora4j.testing.Methods#all")
    void startsEqualToTheBaseLayer(AdapterMethod m) {
        AdaptedLinear layer = layer(m);
        Tensor x = Rand.tensor(new SplittableRandom(3), Device.CPU, TOKENS, IN);
        float[] adapted = layer.forward(x).toFloatArray();
        float[] base = layer.base().forward(x).toFloatArray();
        assertArrayEquals(base, adapted, 1e-5f);
    }

    @ParameterizedTest
    @MethodSource("io.sbora4j.testing.Methods#all")
    void cpuForwardAndBackwardEqualReference(AdapterMethod m) {
        AdaptedLinear cpu = AdapterGradientTest.layer(m, Device.CPU, 13, 17, 5, 4);
        AdaptedLinear ref = AdapterGradientTest.layer(m, Device.REFERENCE, 13, 17, 5, 4);
        SplittableRandom rng = new SplittableRandom(5);
        Tensor xc = Rand.tensor(rng, Device.CPU, 3, 17).requiresGrad(true);
        Tensor xr = xc.to(Device.REFERENCE).requiresGrad(true);
        Tensor dy = Rand.tensor(rng, Device.CPU, 3, 13);
        Tensor yc = cpu.forward(xc), yr = ref.forward(xr);
        assertArrayEquals(yr.toFloatArray(), yc.toFloatArray(), 1e-4f);
        Autograd.backward(yc, dy);
        Autograd.backward(yr, dy.to(Device.REFERENCE));
        assertArrayEquals(xr.grad().toFloatArray(), xc.grad().toFloatArray(), 1e-4f);
        List<Tensor> pc = cpu.trainable(), pr = ref.trainable();
        for (int i = 0; i < pc.size(); i++) {
            assertArrayEquals(
                    pr.get(i).grad().toFloatArray(),
                    pc.get(i).grad().toFloatArray(),
                    1e-4f,
                    pc.get(i).name());
        }
    }

    @ParameterizedTest
    @MethodSource("io.sbora4j.testing.Methods#all")
    void acceptsBatchedInputAndOneToken(AdapterMethod m) {
        AdaptedLinear layer = layer(m);
        assertArrayEquals(
                new int[] {2, 3, OUT},
                layer.forward(Rand.tensor(new SplittableRandom(6), Device.CPU, 2, 3, IN))
                        .shape()
                        .dims());
        assertArrayEquals(
                new int[] {1, OUT},
                layer.forward(Rand.tensor(new SplittableRandom(6), Device.CPU, 1, IN))
                        .shape()
                        .dims());
    }

    @Test
    void trainableParametersAreCountedAsThePaperCountsThem() {
        assertEquals((long) R * (IN + OUT), layer(AdapterMethods.LORA).adapter().trainableCount());
        assertEquals((long) OUT * R, layer(AdapterMethods.LORA_FA).adapter().trainableCount());
        assertEquals((long) OUT * R, layer(AdapterMethods.SBORA_FA).adapter().trainableCount());
        assertEquals((long) R * IN, layer(AdapterMethods.SBORA_FB).adapter().trainableCount());
        assertEquals(
                (long) R * (IN + OUT) + OUT,
                layer(AdapterMethods.DORA).adapter().trainableCount());
        for (AdapterMethod m : AdapterMethods.all()) {
            assertEquals(m.trainableParameters(OUT, IN, R), layer(m).adapter().trainableCount(), m.id());
        }
        // on a square weight SBoRA has half of LoRA's parameters at equal rank
        assertEquals(
                AdapterMethods.LORA.trainableParameters(64, 64, 8),
                2 * AdapterMethods.SBORA_FA.trainableParameters(64, 64, 8));
        assertEquals(
                "trainable params: 160 || all params: 1,120 || trainable%: 14.2857",
                new ParameterReport(160, 1120).toString());
    }

    @Test
    void indicesAreReproducibleFromSeedAndLayerName() {
        int[] a = ((SboraFaAdapter) layer(AdapterMethods.SBORA_FA).adapter()).indices();
        int[] b = ((SboraFaAdapter) layer(AdapterMethods.SBORA_FA).adapter()).indices();
        assertArrayEquals(a, b);
        assertArrayEquals(IndexSelection.draw(0, "model.layers.0.self_attn.q_proj", IN, R), a);
        assertNotEquals(
                List.of(IndexSelection.draw(0, "model.layers.1.self_attn.q_proj", 4096, 64)),
                List.of(IndexSelection.draw(0, "model.layers.0.self_attn.q_proj", 4096, 64)));
        int[] big = IndexSelection.draw(7, "x", 4096, 4096);
        for (int i = 0; i < big.length; i++) {
            assertEquals(i, big[i], "r = dimension selects every index once");
        }
    }

    @Test
    void explicitIndicesAreUsedAsGiven() {
        AdapterConfig cfg = AdapterConfig.of(AdapterMethods.SBORA_FA, 3, 6)
                .withIndices("model.layers.0.self_attn.q_proj", 39, 0, 7);
        AdaptedLinear layer = layer(AdapterMethods.SBORA_FA, Device.CPU, cfg);
        assertArrayEquals(new int[] {39, 0, 7}, ((SboraFaAdapter) layer.adapter()).indices());
    }

    @Test
    void badInputIsAnIllegalArgumentNamingTheLayerAndTheValue() {
        String name = "model.layers.0.self_attn.q_proj";
        assertMessage(() -> AdapterConfig.of(AdapterMethods.SBORA_FA, 0, 1), "r must be >= 1, got 0");
        assertMessage(
                () -> layer(AdapterMethods.SBORA_FA, Device.CPU, AdapterConfig.of(AdapterMethods.SBORA_FA, 41, 1)),
                name,
                "r=41");
        assertMessage(
                () -> layer(AdapterMethods.SBORA_FB, Device.CPU, AdapterConfig.of(AdapterMethods.SBORA_FB, 25, 1)),
                name,
                "r=25");
        assertMessage(
                () -> layer(
                        AdapterMethods.SBORA_FA,
                        Device.CPU,
                        AdapterConfig.of(AdapterMethods.SBORA_FA, 3, 1).withIndices(name, 1, 5, 1)),
                name,
                "duplicate index 1");
        assertMessage(
                () -> layer(
                        AdapterMethods.SBORA_FA,
                        Device.CPU,
                        AdapterConfig.of(AdapterMethods.SBORA_FA, 2, 1).withIndices(name, 3, 40)),
                name,
                "index 40");
        assertMessage(
                () -> layer(
                        AdapterMethods.SBORA_FA,
                        Device.CPU,
                        AdapterConfig.of(AdapterMethods.SBORA_FA, 2, 1).withIndices(name, -1, 3)),
                name,
                "index -1");
        assertMessage(
                () -> layer(
                        AdapterMethods.SBORA_FA,
                        Device.CPU,
                        AdapterConfig.of(AdapterMethods.SBORA_FA, 2, 1).withIndices(name, 1, 2, 3)),
                name,
                "3 indices");
        AdaptedLinear layer = layer(AdapterMethods.SBORA_FA);
        assertMessage(
                () -> layer.forward(Rand.tensor(new SplittableRandom(1), Device.CPU, 2, IN + 1)), name, "[2, 41]");
        float[] v = new float[2 * IN];
        v[37] = Float.NaN;
        assertMessage(() -> layer.forward(Tensor.of(Device.CPU, v, 2, IN)), name, "1 non-finite");
        assertMessage(() -> AdapterConfig.of(AdapterMethods.LORA, 4, Double.NaN), "alpha", "NaN");
        assertMessage(() -> AdapterConfig.of(AdapterMethods.LORA, 4, 8).withDropout(1.0), "dropout", "1.0");
        assertMessage(() -> AdapterMethods.of("sbora-fc"), "sbora-fc");
    }

    private static void assertMessage(Runnable r, String... parts) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, r::run);
        for (String p : parts) {
            assertTrue(e.getMessage().contains(p), "message '" + e.getMessage() + "' lacks '" + p + "'");
        }
    }

    @Test
    void mergeTwiceOrUnmergeFirstIsAnError() {
        AdaptedLinear layer = layer(AdapterMethods.SBORA_FB);
        assertThrows(IllegalStateException.class, layer::unmerge);
        layer.merge();
        assertThrows(IllegalStateException.class, layer::merge);
        layer.unmerge();
    }

    @Test
    void dropoutActsOnlyWhileTrainingAndKeepsTheExpectation() {
        AdapterConfig cfg = AdapterConfig.of(AdapterMethods.SBORA_FA, 8, 16).withDropout(0.5);
        AdaptedLinear layer = layer(AdapterMethods.SBORA_FA, Device.CPU, cfg);
        layer.trainable().getFirst().copyFrom(Rand.floats(new SplittableRandom(8), OUT * 8, 1));
        Tensor x = Rand.tensor(new SplittableRandom(9), Device.CPU, 200, IN);
        layer.train(false);
        float[] eval1 = layer.forward(x).toFloatArray(),
                eval2 = layer.forward(x).toFloatArray();
        assertArrayEquals(eval1, eval2, 0f, "no dropout in eval mode");
        layer.train(true);
        float[] t1 = layer.forward(x).toFloatArray(), t2 = layer.forward(x).toFloatArray();
        assertTrue(!Arrays.equals(t1, t2), "a fresh mask per training forward");
        double meanEval = 0, meanTrain = 0;
        for (int i = 0; i < t1.length; i++) {
            meanEval += Math.abs(eval1[i]);
            meanTrain += Math.abs((t1[i] + t2[i]) / 2);
        }
        assertEquals(1, meanTrain / meanEval, 0.2, "inverted dropout keeps the scale");
    }
}
