package io.sbora4j.serve;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sbora4j.nn.Linear;
import io.sbora4j.nn.LlamaModel;
import io.sbora4j.peft.AdaptedLinear;
import io.sbora4j.peft.AdapterConfig;
import io.sbora4j.peft.AdapterMethod;
import io.sbora4j.peft.AdapterMethods;
import io.sbora4j.peft.AdapterRouting;
import io.sbora4j.tensor.Device;
import io.sbora4j.tensor.Tensor;
import io.sbora4j.testing.Methods;
import java.lang.foreign.Arena;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * A mixed batch (each sequence through its own adapter, or the base) equals each sequence run alone through the
 * plain single-adapter forward, within 1e-5 relative, for every method: whole models and one layer with rows
 * interleaved at random.
 */
class MixedBatchTest {

    static List<AdapterMethod> methods() {
        return AdapterMethods.all();
    }

    @ParameterizedTest
    @MethodSource("methods")
    void mixedBatchEqualsEachSequenceAlone(AdapterMethod method) {
        for (Device device : List.of(Device.CPU, Device.REFERENCE)) {
            try (Arena arena = Arena.ofShared()) {
                LlamaModel model = LlamaModel.random(ServeFixtures.CFG, 11, device, arena);
                AdapterRegistry<LlamaModel> reg = AdapterRegistry.over(model);
                SplittableRandom rng = new SplittableRandom(method.id().hashCode());
                for (String n : List.of("a", "b", "c")) {
                    AdapterConfig cfg = AdapterConfig.of(method, 4, 8).withSeed(rng.nextLong());
                    reg.add(n, cfg, ServeFixtures.randomTensors(model, cfg, rng));
                }
                // "c" adapts the attention only: its MLP layers run the base for its rows.
                AdapterConfig attn =
                        AdapterConfig.of(AdapterMethods.SBORA_FA, 3, 6).withTargets(List.of("q_proj", "v_proj"));
                reg.add("attn", attn, ServeFixtures.randomTensors(model, attn, rng));
                int seq = 5;
                // "a" twice apart (a gathered group), "b" twice side by side (one run), the base twice.
                List<String> names = Arrays.asList("a", null, "b", "b", "a", "attn", null, "c");
                Tensor ids = ServeFixtures.ids(device, rng, names.size(), seq);
                float[] mixed = reg.logits(ids, names).toFloatArray();
                int vocab = ServeFixtures.CFG.vocabSize();
                int[] all = ids.toIntArray();
                for (int b = 0; b < names.size(); b++) {
                    Tensor one = Tensor.ofInts(device, Arrays.copyOfRange(all, b * seq, (b + 1) * seq), 1, seq);
                    String n = names.get(b);
                    reg.peft().setActiveAdapter(n); // the plain forward: one adapter, unrouted
                    float[] alone = reg.withModel(m -> m.logits(one)).toFloatArray();
                    float[] part = Arrays.copyOfRange(mixed, b * seq * vocab, (b + 1) * seq * vocab);
                    double err = ServeFixtures.relError(part, alone);
                    assertTrue(err <= 1e-5, method + " on " + device + ", sequence " + b + " (" + n + "): " + err);
                    if (n != null) { // the adapter must matter, or the comparison proves nothing
                        reg.peft().setActiveAdapter(null);
                        float[] base = reg.withModel(m -> m.logits(one)).toFloatArray();
                        assertTrue(ServeFixtures.relError(base, alone) > 1e-3, n + " changes nothing");
                    }
                }
                reg.peft().setActiveAdapter(null);
            }
        }
    }

    @ParameterizedTest
    @MethodSource("methods")
    void oneLayerWithRowsInterleavedAtRandom(AdapterMethod method) {
        SplittableRandom rng = new SplittableRandom(7);
        int out = 24, in = 20, rows = 37;
        float[] wv = new float[out * in];
        for (int i = 0; i < wv.length; i++) {
            wv[i] = (float) ServeFixtures.gaussian(rng) / 4;
        }
        Arena arena = Arena.ofAuto();
        AdaptedLinear layer =
                AdaptedLinear.wrap(new Linear("layers.0.mlp.up_proj", Tensor.of(Device.CPU, wv, out, in)));
        String[] names = {"x", "y", "z"};
        for (String n : names) {
            layer.addAdapter(n, AdapterConfig.of(method, 3, 6).withSeed(rng.nextLong()), arena);
            for (var t : layer.adapter(n).trainable()) {
                float[] v = t.toFloatArray();
                for (int i = 0; i < v.length; i++) {
                    v[i] += (float) (0.1 * ServeFixtures.gaussian(rng));
                }
                t.copyFrom(v);
            }
        }
        String[] random = new String[rows];
        for (int i = 0; i < rows; i++) {
            int k = rng.nextInt(4);
            random[i] = k == 3 ? null : names[k];
        }
        // Short runs are gathered; runs of 16 rows (whole sequences) are computed run by run on views.
        for (AdapterRouting routing : List.of(
                AdapterRouting.perRow(Arrays.asList(random)),
                AdapterRouting.perSequence(Arrays.asList("x", "y", "x", null, "y", "z"), 16))) {
            int n = routing.rows();
            float[] xv = new float[n * in];
            for (int i = 0; i < xv.length; i++) {
                xv[i] = (float) ServeFixtures.gaussian(rng);
            }
            Tensor x = Tensor.of(Device.CPU, xv, n, in);
            float[] mixed;
            try (AdapterRouting ignored = routing.open()) {
                mixed = layer.forward(x).toFloatArray();
            }
            for (int i = 0; i < n; i++) {
                Tensor row = Tensor.of(Device.CPU, Arrays.copyOfRange(xv, i * in, (i + 1) * in), 1, in);
                String name = routing.perRow().get(i);
                float[] alone = layer.forward(row, name).toFloatArray();
                double err = ServeFixtures.relError(Arrays.copyOfRange(mixed, i * out, (i + 1) * out), alone);
                assertTrue(err <= 1e-5, method + ", row " + i + " (" + name + "): " + err);
            }
        }
    }

    static List<AdapterMethod> bf16Methods() {
        return Methods.bf16Capable().toList();
    }

    /**
     * bf16 projections: the mixed batch rounds each output element once more or less than the plain forward only
     * where f32 accumulation order flips a bf16 rounding, so the bound is bf16's, not f32's.
     */
    @ParameterizedTest
    @MethodSource("bf16Methods")
    void bf16MixedBatchEqualsEachSequenceAlone(AdapterMethod method) {
        for (Device device : List.of(Device.CPU, Device.REFERENCE)) {
            try (Arena arena = Arena.ofShared()) {
                LlamaModel model = LlamaModel.random(ServeFixtures.CFG, 12, device, arena);
                model.useBf16Projections(arena);
                AdapterRegistry<LlamaModel> reg = AdapterRegistry.over(model);
                SplittableRandom rng = new SplittableRandom(method.id().hashCode() + 1);
                for (String n : List.of("a", "b")) {
                    AdapterConfig cfg = AdapterConfig.of(method, 4, 8).withSeed(rng.nextLong());
                    reg.add(n, cfg, ServeFixtures.randomTensors(model, cfg, rng));
                }
                int seq = 4;
                List<String> names = Arrays.asList("a", "b", null, "a", "b");
                Tensor ids = ServeFixtures.ids(device, rng, names.size(), seq);
                float[] mixed = reg.logits(ids, names).toFloatArray();
                int vocab = ServeFixtures.CFG.vocabSize();
                int[] all = ids.toIntArray();
                for (int b = 0; b < names.size(); b++) {
                    Tensor one = Tensor.ofInts(device, Arrays.copyOfRange(all, b * seq, (b + 1) * seq), 1, seq);
                    reg.peft().setActiveAdapter(names.get(b));
                    float[] alone = reg.withModel(m -> m.logits(one)).toFloatArray();
                    float[] part = Arrays.copyOfRange(mixed, b * seq * vocab, (b + 1) * seq * vocab);
                    double err = ServeFixtures.relError(part, alone);
                    assertTrue(err <= 2e-2, method + " bf16 on " + device + ", sequence " + b + ": " + err);
                }
                reg.peft().setActiveAdapter(null);
            }
        }
    }
}
