package org.example.vera;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sbora4j.autograd.Autograd;
import io.sbora4j.backend.Backends;
import io.sbora4j.cli.SboraCli;
import io.sbora4j.data.ByteTokenizer;
import io.sbora4j.data.PromptTemplate;
import io.sbora4j.data.SftData;
import io.sbora4j.data.SyntheticTasks;
import io.sbora4j.io.AdapterFiles;
import io.sbora4j.io.LoadOptions;
import io.sbora4j.io.ModelFiles;
import io.sbora4j.io.SafetensorsFile;
import io.sbora4j.nn.Linear;
import io.sbora4j.nn.LlamaConfig;
import io.sbora4j.nn.LlamaModel;
import io.sbora4j.ops.Elementwise;
import io.sbora4j.ops.Reductions;
import io.sbora4j.optim.LrSchedule;
import io.sbora4j.peft.AdaptedLinear;
import io.sbora4j.peft.AdapterConfig;
import io.sbora4j.peft.AdapterMethod;
import io.sbora4j.peft.AdapterMethods;
import io.sbora4j.peft.PeftModel;
import io.sbora4j.tensor.Device;
import io.sbora4j.tensor.MemoryScope;
import io.sbora4j.tensor.Tensor;
import io.sbora4j.train.LmTask;
import io.sbora4j.train.Trainable;
import io.sbora4j.train.Trainer;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** VeRA, defined in this project only, works everywhere the library's own methods do. */
class VeraTest {

    private static final LlamaConfig CFG = new LlamaConfig(259, 32, 64, 2, 4, 2, 1e-6, 10000, 64, false);

    @TempDir
    Path tmp;

    @Test
    void theLibraryFindsTheMethodByName() {
        AdapterMethod m = AdapterMethods.of("vera");
        assertInstanceOf(VeraMethod.class, m);
        assertTrue(AdapterMethods.all().contains(m));
        assertEquals(8 + 32, m.trainableParameters(32, 16, 8));
    }

    /** d/loss and b/loss against central differences of a random linear function of the output. */
    @Test
    void gradientsMatchFiniteDifferences() {
        SplittableRandom rng = new SplittableRandom(3);
        try (Arena arena = Arena.ofConfined();
                MemoryScope scope = MemoryScope.open()) {
            Linear base = new Linear("l", Tensor.of(arena, Device.REFERENCE, floats(rng, 6 * 5), 6, 5));
            AdaptedLinear layer = AdaptedLinear.attach(base, AdapterConfig.of(AdapterMethods.of("vera"), 3, 6), arena);
            for (Tensor t : layer.trainable()) {
                t.copyFrom(floats(rng, (int) t.numel()));
            }
            Tensor x = Tensor.of(Device.REFERENCE, floats(rng, 4 * 5), 4, 5);
            Tensor weights = Tensor.of(Device.REFERENCE, floats(rng, 4 * 6), 4, 6);
            Autograd.backward(layer.forward(x), weights);
            for (Tensor p : layer.trainable()) {
                for (int i = 0; i < p.numel(); i++) {
                    float v = p.getFloat(i);
                    double h = 1e-2;
                    p.setFloat(i, (float) (v + h));
                    double up = dot(layer.forward(x.detach()), weights);
                    p.setFloat(i, (float) (v - h));
                    double down = dot(layer.forward(x.detach()), weights);
                    p.setFloat(i, v);
                    double fd = (up - down) / (2 * h);
                    assertEquals(fd, p.grad().getFloat(i), 2e-3 * Math.max(1, Math.abs(fd)), p.name() + "[" + i + "]");
                }
            }
        }
    }

    @Test
    void trainsMergesSavesLoadsAndExportsThroughTheApi() throws IOException {
        Path adapterDir = tmp.resolve("vera"), peftDir = tmp.resolve("peft");
        SftData data = new SftData(
                SyntheticTasks.addition(1, 3).subList(0, 8), new ByteTokenizer(), PromptTemplate.PLAIN, 32, 1);
        float[] adapted;
        try (Arena arena = Arena.ofConfined()) {
            LlamaModel model = LlamaModel.random(CFG, 2, Device.CPU, arena);
            AdapterConfig cfg =
                    AdapterConfig.of(AdapterMethods.of("vera"), 8, 16).withSeed(5);
            PeftModel<LlamaModel> peft = PeftModel.inject(model, cfg, arena);
            assertEquals(
                    2 * 7 * 8
                            + model.linearLayers().values().stream()
                                    .mapToLong(l -> l.outFeatures())
                                    .sum(),
                    peft.report().trainable());
            Trainer.Result r = new Trainer(
                            Trainable.of(peft),
                            new Trainer.Config(
                                    12, 1, new LrSchedule(5e-2, 0, 12, LrSchedule.Decay.CONSTANT), 0, 1, 5, null, 0),
                            new LmTask(model, data, 4, 1))
                    .run(p -> {});
            assertTrue(r.losses().getLast() < r.losses().getFirst(), "loss falls: " + r.losses());
            peft.train(false);
            adapted = logits(model);
            AdapterFiles.save(peft, adapterDir);
            peft.mergeAll();
            assertClose(adapted, logits(model), 1e-4, "merged == adapted");
            peft.unmergeAll();
        }
        try (Arena arena = Arena.ofConfined()) {
            LlamaModel fresh = LlamaModel.random(CFG, 2, Device.CPU, arena);
            PeftModel<LlamaModel> loaded = AdapterFiles.load(adapterDir, fresh, arena);
            loaded.train(false);
            assertClose(adapted, logits(fresh), 0, "loaded == saved");
        }
        AdapterFiles.exportPeft(adapterDir, peftDir);
        String config = Files.readString(peftDir.resolve(AdapterFiles.CONFIG));
        assertTrue(config.contains("\"peft_type\" : \"LORA\""), config);
        // The exported LoRA factors give the same ΔW as VeRA's merge on one layer
        try (Arena arena = Arena.ofConfined();
                MemoryScope scope = MemoryScope.open()) {
            String path = "model.layers.1.mlp.down_proj";
            SafetensorsFile f = SafetensorsFile.open(peftDir.resolve(AdapterFiles.WEIGHTS), arena);
            Tensor a = f.tensor("base_model.model." + path + ".lora_A.weight", arena, Device.CPU);
            Tensor b = f.tensor("base_model.model." + path + ".lora_B.weight", arena, Device.CPU);
            LlamaModel fresh = LlamaModel.random(CFG, 2, Device.CPU, arena);
            float[] before = ((Linear) fresh.linearLayers().get(path)).weight().toFloatArray();
            PeftModel<LlamaModel> loaded = AdapterFiles.load(adapterDir, fresh, arena);
            loaded.adapted().get(path).merge();
            float[] after = loaded.adapted().get(path).base().denseWeight().toFloatArray();
            Tensor delta = Tensor.zeros(Device.CPU, b.dim(0), a.dim(1));
            Backends.of(Device.CPU).gemm(false, false, 2f, b, a, 0f, delta); // s = 16 / 8
            for (int i = 0; i < after.length; i++) {
                assertEquals(after[i] - before[i], delta.getFloat(i), 1e-5, "ΔW[" + i + "]");
            }
        }
    }

    @Test
    void worksThroughTheCommandLine() throws IOException {
        Path base = tmp.resolve("base"), adapter = tmp.resolve("adapter"), data = tmp.resolve("sums.jsonl");
        try (Arena arena = Arena.ofConfined()) {
            ModelFiles.save(LlamaModel.random(CFG, 1, Device.CPU, arena), base);
        }
        StringBuilder jsonl = new StringBuilder();
        for (int i = 0; i < 8; i++) {
            jsonl.append("{\"instruction\": \"What is ")
                    .append(i)
                    .append(" + 1?\", \"output\": \"")
                    .append(i + 1)
                    .append("\"}\n");
        }
        Files.writeString(data, jsonl);
        assertEquals(
                0,
                SboraCli.run(
                        "finetune",
                        "--model",
                        base.toString(),
                        "--data",
                        data.toString(),
                        "--method",
                        "vera",
                        "--r",
                        "8",
                        "--alpha",
                        "16",
                        "--steps",
                        "2",
                        "--batch",
                        "2",
                        "--seq-len",
                        "48",
                        "--template",
                        "plain",
                        "--tokenizer",
                        "byte",
                        "--lr",
                        "1e-2",
                        "--out",
                        adapter.toString()));
        assertTrue(Files.readString(adapter.resolve(AdapterFiles.CONFIG)).contains("\"vera\""));
        assertEquals(
                0,
                SboraCli.run(
                        "merge",
                        "--model",
                        base.toString(),
                        "--adapter",
                        adapter.toString(),
                        "--out",
                        tmp.resolve("merged").toString()));
        assertEquals(
                0,
                SboraCli.run(
                        "export",
                        "--adapter",
                        adapter.toString(),
                        "--out",
                        tmp.resolve("peft").toString()));
        try (Arena arena = Arena.ofConfined()) {
            LlamaModel merged = ModelFiles.load(tmp.resolve("merged"), LoadOptions.on(Device.CPU), arena);
            assertEquals(CFG, merged.config());
        }
    }

    private static float[] logits(LlamaModel model) {
        try (MemoryScope scope = MemoryScope.open()) {
            int[] ids = {1, 40, 50, 60, 70, 2};
            return model.logits(Tensor.ofInts(model.device(), ids, 1, ids.length))
                    .toFloatArray();
        }
    }

    private static double dot(Tensor y, Tensor w) {
        return Reductions.sum(Elementwise.mul(y, w)).item();
    }

    private static void assertClose(float[] want, float[] got, double tol, String what) {
        assertEquals(want.length, got.length, what);
        for (int i = 0; i < want.length; i++) {
            assertEquals(want[i], got[i], tol * Math.max(1, Math.abs(want[i])), what + " at " + i);
        }
    }

    private static float[] floats(SplittableRandom rng, int n) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) (rng.nextDouble() * 2 - 1);
        }
        return v;
    }
}
