package io.sbora4j.serve;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sbora4j.io.AdapterFiles;
import io.sbora4j.nn.LlamaConfig;
import io.sbora4j.nn.LlamaModel;
import io.sbora4j.peft.AdaptedLinear;
import io.sbora4j.peft.AdapterConfig;
import io.sbora4j.peft.AdapterMethods;
import io.sbora4j.peft.PeftModel;
import io.sbora4j.quant.MergeMode;
import io.sbora4j.quant.Quantization;
import io.sbora4j.tensor.Device;
import io.sbora4j.tensor.Tensor;
import java.lang.foreign.Arena;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Loading, listing, unloading and swapping named adapters, and the one-line errors for what does not fit. */
class AdapterRegistryTest {

    private static AdapterConfig sboraFa(long seed) {
        return AdapterConfig.of(AdapterMethods.SBORA_FA, 4, 8).withSeed(seed);
    }

    private static void assertOneLine(Exception e, String contains) {
        assertFalse(e.getMessage().contains("\n"), e.getMessage());
        assertTrue(e.getMessage().contains(contains), e.getMessage());
    }

    @Test
    void namesAreUniqueListedAndUnloaded() {
        try (Arena arena = Arena.ofShared()) {
            LlamaModel model = LlamaModel.random(ServeFixtures.CFG, 1, Device.CPU, arena);
            AdapterRegistry<LlamaModel> reg = AdapterRegistry.over(model);
            SplittableRandom rng = new SplittableRandom(1);
            reg.add("a", sboraFa(1), ServeFixtures.randomTensors(model, sboraFa(1), rng));
            reg.add("b", sboraFa(2), ServeFixtures.randomTensors(model, sboraFa(2), rng));
            assertEquals(List.of("a", "b"), reg.names());
            assertOneLine(
                    assertThrows(IllegalArgumentException.class, () -> reg.add("a", sboraFa(3), Map.of())),
                    "already loaded");
            assertOneLine(assertThrows(IllegalArgumentException.class, () -> reg.swapTo("nope")), "no adapter named");
            assertOneLine(assertThrows(IllegalArgumentException.class, () -> reg.unload("nope")), "no adapter named");
            Tensor ids = ServeFixtures.ids(Device.CPU, rng, 2, 3);
            assertOneLine(
                    assertThrows(IllegalArgumentException.class, () -> reg.logits(ids, List.of("a", "nope"))),
                    "no adapter named 'nope'");
            assertOneLine(
                    assertThrows(IllegalArgumentException.class, () -> reg.logits(ids, List.of("a"))), "2 sequences");
            Map<String, int[]> base = ServeFixtures.weightBits(model);
            reg.swapTo("a");
            reg.unload("a"); // swapped in: the base comes back first
            assertEquals(null, reg.swapped());
            assertEquals(List.of("b"), reg.names());
            ServeFixtures.weightBits(model).forEach((k, v) -> assertArrayEquals(base.get(k), v, k));
            reg.add("a", sboraFa(1), ServeFixtures.randomTensors(model, sboraFa(1), rng)); // the name is free again
            assertEquals(List.of("b", "a"), reg.names());
        }
    }

    @Test
    void incompatibleTensorsAndTargetsAreRefusedAndLeaveNothing() {
        try (Arena arena = Arena.ofShared()) {
            LlamaModel model = LlamaModel.random(ServeFixtures.CFG, 2, Device.CPU, arena);
            AdapterRegistry<LlamaModel> reg = AdapterRegistry.over(model);
            SplittableRandom rng = new SplittableRandom(2);
            Map<String, Map<String, Tensor>> good = ServeFixtures.randomTensors(model, sboraFa(1), rng);

            Map<String, Map<String, Tensor>> wrongShape = new LinkedHashMap<>(good);
            String q = "model.layers.0.self_attn.q_proj";
            Map<String, Tensor> qt = new LinkedHashMap<>(good.get(q));
            qt.put("lora_B", Tensor.zeros(Device.CPU, 31, 4));
            wrongShape.put(q, qt);
            assertOneLine(
                    assertThrows(IllegalArgumentException.class, () -> reg.add("x", sboraFa(1), wrongShape)),
                    "lora_B is");

            Map<String, Map<String, Tensor>> missing = new LinkedHashMap<>(good);
            missing.remove(q);
            assertOneLine(
                    assertThrows(IllegalArgumentException.class, () -> reg.add("x", sboraFa(1), missing)),
                    "targets layer " + q);

            Map<String, Map<String, Tensor>> extra = new LinkedHashMap<>(good);
            extra.put("model.layers.9.self_attn.q_proj", good.get(q));
            assertOneLine(
                    assertThrows(IllegalArgumentException.class, () -> reg.add("x", sboraFa(1), extra)),
                    "does not exist in the model");

            AdapterConfig qOnly = sboraFa(1).withTargets(List.of("q_proj"));
            assertOneLine(
                    assertThrows(IllegalArgumentException.class, () -> reg.add("x", qOnly, good)), "do not match");

            Map<String, Map<String, Tensor>> badIdx = new LinkedHashMap<>(good);
            Map<String, Tensor> bi = new LinkedHashMap<>(good.get(q));
            bi.put("idx", Tensor.ofInts(Device.CPU, new int[] {0, 1, 1, 2}, 4));
            badIdx.put(q, bi);
            assertThrows(IllegalArgumentException.class, () -> reg.add("x", sboraFa(1), badIdx));

            assertEquals(List.of(), reg.names());
            assertEquals(List.of(), reg.peft().adapterNames());
            reg.add("x", sboraFa(1), good); // nothing of the refused attempts is left behind
        }
    }

    @Test
    void loadsPeftDirectoriesAndComputesWhatTheTrainedModelDid(@TempDir Path dir) throws Exception {
        try (Arena arena = Arena.ofShared()) {
            SplittableRandom rng = new SplittableRandom(3);
            LlamaModel trainedBase = LlamaModel.random(ServeFixtures.CFG, 3, Device.CPU, arena);
            AdapterConfig cfg = AdapterConfig.of(AdapterMethods.SBORA_FB, 4, 8).withSeed(5);
            PeftModel<LlamaModel> trained = PeftModel.inject(trainedBase, cfg, arena);
            trained.adapted()
                    .values()
                    .forEach(a -> a.adapter().trainable().forEach(t -> {
                        float[] v = new float[(int) t.numel()];
                        for (int i = 0; i < v.length; i++) {
                            v[i] = (float) (0.05 * ServeFixtures.gaussian(rng));
                        }
                        t.copyFrom(v);
                    }));
            AdapterFiles.save(trained, dir.resolve("fb"));
            Tensor ids = ServeFixtures.ids(Device.CPU, rng, 2, 4);
            float[] want = trainedBase.logits(ids).toFloatArray();

            LlamaModel model = LlamaModel.random(ServeFixtures.CFG, 3, Device.CPU, arena);
            AdapterRegistry<LlamaModel> reg = AdapterRegistry.over(model);
            reg.load("fb", dir.resolve("fb"));
            assertEquals(List.of("fb"), reg.names());
            assertEquals(cfg.method(), reg.config("fb").method());
            assertTrue(ServeFixtures.relError(
                            reg.logits(ids, List.of("fb", "fb")).toFloatArray(), want)
                    <= 1e-5);
            reg.swapTo("fb");
            assertTrue(ServeFixtures.relError(reg.withModel(m -> m.logits(ids)).toFloatArray(), want) <= 1e-5);
            assertOneLine(
                    assertThrows(IllegalStateException.class, () -> reg.logits(ids, List.of("fb", "fb"))),
                    "swapToBase()");
            reg.swapToBase();

            // An adapter for another shape of model: refused naming the layer, and not registered.
            LlamaModel wider = LlamaModel.random(
                    new LlamaConfig(61, 48, 48, 2, 4, 2, 1e-5, 10000, 32, false), 3, Device.CPU, arena);
            AdapterRegistry<LlamaModel> other = AdapterRegistry.over(wider);
            assertOneLine(
                    assertThrows(IllegalArgumentException.class, () -> other.load("fb", dir.resolve("fb"))),
                    "in the model but");
            assertEquals(List.of(), other.names());
        }
    }

    @Test
    void swapKeepsOnlyTheRegionItOverwrites() {
        try (Arena arena = Arena.ofShared()) {
            LlamaModel model = LlamaModel.random(ServeFixtures.CFG, 4, Device.CPU, arena);
            AdapterRegistry<LlamaModel> reg = AdapterRegistry.over(model);
            SplittableRandom rng = new SplittableRandom(4);
            int r = 4;
            for (var m : List.of(AdapterMethods.SBORA_FA, AdapterMethods.SBORA_FB, AdapterMethods.LORA)) {
                AdapterConfig cfg = AdapterConfig.of(m, r, 8);
                reg.add(m.id().replace('.', '_'), cfg, ServeFixtures.randomTensors(model, cfg, rng));
            }
            long in = 0, out = 0, all = 0;
            for (var l : model.linearLayers().values()) {
                in += l.inFeatures();
                out += l.outFeatures();
                all += (long) l.inFeatures() * l.outFeatures();
            }
            List<Long> bytes = new ArrayList<>();
            for (String n : reg.names()) {
                reg.swapTo(n);
                bytes.add(reg.swapBackupBytes());
            }
            assertEquals(List.of(4L * r * out, 4L * r * in, 4L * all), bytes); // f32: r columns, r rows, everything
            reg.swapToBase();
            assertEquals(0, reg.swapBackupBytes());
        }
    }

    @Test
    void quantisedBaseIsRefusedForSwapsAndServedUnmerged() {
        try (Arena arena = Arena.ofShared()) {
            LlamaModel model = LlamaModel.random(ServeFixtures.CFG, 5, Device.CPU, arena);
            Quantization.quantize(model, MergeMode.OVERLAY, arena);
            AdapterRegistry<LlamaModel> reg = AdapterRegistry.over(model);
            SplittableRandom rng = new SplittableRandom(5);
            reg.add("a", sboraFa(1), ServeFixtures.randomTensors(model, sboraFa(1), rng));
            assertOneLine(assertThrows(IllegalArgumentException.class, () -> reg.swapTo("a")), "exact swap");
            assertEquals(null, reg.swapped());
            Tensor ids = ServeFixtures.ids(Device.CPU, rng, 2, 3);
            float[] mixed = reg.logits(ids, Arrays.asList("a", null)).toFloatArray();
            reg.peft().setActiveAdapter("a");
            float[] alone = reg.withModel(m -> m.logits(ids)).toFloatArray();
            int half = mixed.length / 2;
            assertTrue(ServeFixtures.relError(Arrays.copyOf(mixed, half), Arrays.copyOf(alone, half)) <= 1e-5);
        }
    }

    @Test
    void concurrentSwapsLeaveTheBaseExact() throws Exception {
        try (Arena arena = Arena.ofShared()) {
            LlamaModel model = LlamaModel.random(ServeFixtures.CFG, 6, Device.CPU, arena);
            AdapterRegistry<LlamaModel> reg = AdapterRegistry.over(model);
            SplittableRandom rng = new SplittableRandom(6);
            for (var m : List.of(AdapterMethods.SBORA_FA, AdapterMethods.SBORA_FB, AdapterMethods.LORA)) {
                AdapterConfig cfg = AdapterConfig.of(m, 4, 8);
                reg.add(m.id().replace('.', '_'), cfg, ServeFixtures.randomTensors(model, cfg, rng));
            }
            Map<String, int[]> base = ServeFixtures.weightBits(model);
            Tensor ids = ServeFixtures.ids(Device.CPU, rng, 3, 4);
            List<String> names = reg.names();
            ExecutorService pool = Executors.newFixedThreadPool(4);
            try {
                List<Future<?>> fs = new ArrayList<>();
                for (int t = 0; t < 4; t++) {
                    int seed = t;
                    fs.add(pool.submit(() -> {
                        SplittableRandom r = new SplittableRandom(seed);
                        for (int i = 0; i < 10; i++) {
                            switch (r.nextInt(3)) {
                                case 0 -> reg.swapTo(names.get(r.nextInt(names.size())));
                                case 1 -> reg.swapToBase();
                                default -> {
                                    synchronized (reg) { // a mixed batch needs the base: no swap in between
                                        reg.swapToBase();
                                        reg.logits(ids, names);
                                    }
                                }
                            }
                        }
                        return null;
                    }));
                }
                for (Future<?> f : fs) {
                    f.get();
                }
            } finally {
                pool.shutdown();
            }
            reg.swapToBase();
            ServeFixtures.weightBits(model).forEach((k, v) -> assertArrayEquals(base.get(k), v, k));
            AdaptedLinear any =
                    (AdaptedLinear) model.linearLayers().values().iterator().next();
            assertEquals(null, any.swappedIn());
        }
    }
}
