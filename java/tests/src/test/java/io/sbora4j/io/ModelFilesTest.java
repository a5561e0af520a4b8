package io.sbora4j.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sbora4j.autograd.NoGrad;
import io.sbora4j.nn.LlamaConfig;
import io.sbora4j.nn.LlamaModel;
import io.sbora4j.optim.AdamW;
import io.sbora4j.peft.AdaptedLinear;
import io.sbora4j.peft.AdapterConfig;
import io.sbora4j.peft.AdapterMethods;
import io.sbora4j.peft.PeftModel;
import io.sbora4j.quant.MergeMode;
import io.sbora4j.quant.Quantization;
import io.sbora4j.tensor.Device;
import io.sbora4j.tensor.MemoryScope;
import io.sbora4j.tensor.Tensor;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Model directories: save, load (the model's own copy, read-only or writable) and merging into loaded weights. */
class ModelFilesTest {

    private static final LlamaConfig CFG = new LlamaConfig(259, 32, 64, 2, 4, 2, 1e-6, 10000, 64, false);

    @TempDir
    Path dir;

    private static float[] logits(LlamaModel m) {
        try (NoGrad ignored = NoGrad.enter()) {
            return m.logits(Tensor.ofInts(Device.CPU, new int[] {256, 10, 20, 30, 40, 257}, 2, 3))
                    .toFloatArray();
        }
    }

    private static void assertBitEqual(float[] expected, float[] actual) {
        assertEquals(expected.length, actual.length);
        for (int i = 0; i < expected.length; i++) {
            assertEquals(Float.floatToRawIntBits(expected[i]), Float.floatToRawIntBits(actual[i]), "[" + i + "]");
        }
    }

    private Path saved(LlamaConfig cfg) throws IOException {
        try (Arena arena = Arena.ofConfined()) {
            ModelFiles.save(LlamaModel.random(cfg, 5, Device.CPU, arena), dir);
        }
        return dir;
    }

    private static PeftModel<LlamaModel> adapted(LlamaModel m, Arena arena) {
        var peft = PeftModel.inject(m, AdapterConfig.of(AdapterMethods.SBORA_FA, 2, 4), arena);
        SplittableRandom rng = new SplittableRandom(1);
        for (AdaptedLinear a : peft.adapted().values()) {
            for (Tensor t : a.trainable()) {
                float[] v = new float[(int) t.numel()];
                for (int i = 0; i < v.length; i++) {
                    v[i] = (float) (rng.nextDouble() - 0.5);
                }
                t.copyFrom(v);
            }
        }
        peft.train(false);
        return peft;
    }

    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void saveThenLoadGivesIdenticalLogits(boolean tied) throws IOException {
        LlamaConfig cfg = new LlamaConfig(259, 32, 64, 2, 4, 2, 1e-6, 10000, 64, tied);
        try (Arena arena = Arena.ofConfined()) {
            LlamaModel original = LlamaModel.random(cfg, 5, Device.CPU, arena);
            ModelFiles.save(original, dir);
            assertTrue(Files.isRegularFile(dir.resolve(ModelFiles.CONFIG)));
            for (boolean writable : new boolean[] {false, true}) {
                LlamaModel loaded = ModelFiles.load(
                        dir, writable ? LoadOptions.on(Device.CPU).asWritable() : LoadOptions.on(Device.CPU), arena);
                assertEquals(cfg, loaded.config());
                assertEquals(
                        original.namedTensors().keySet(), loaded.namedTensors().keySet());
                for (var e : original.namedTensors().entrySet()) {
                    assertBitEqual(
                            e.getValue().toFloatArray(),
                            loaded.namedTensors().get(e.getKey()).toFloatArray());
                }
                assertBitEqual(logits(original), logits(loaded));
            }
        }
    }

    @Test
    void aReadOnlyLoadIsAReadOnlyCopyThatNoFileBacks() throws IOException {
        saved(CFG);
        try (Arena arena = Arena.ofConfined()) {
            LlamaModel m = ModelFiles.load(dir, LoadOptions.on(Device.CPU), arena);
            for (var e : m.namedTensors().entrySet()) {
                assertTrue(e.getValue().isReadOnly(), e.getKey());
                assertFalse(e.getValue().isMapped(), e.getKey() + " is the model's own copy, not a view of the file");
            }
        }
    }

    @Test
    void aWritableLoadIsAWritableCopyThatNoFileBacks() throws IOException {
        saved(CFG);
        try (Arena arena = Arena.ofConfined()) {
            LlamaModel m = ModelFiles.load(dir, LoadOptions.on(Device.CPU).asWritable(), arena);
            for (var e : m.namedTensors().entrySet()) {
                assertFalse(e.getValue().isReadOnly(), e.getKey());
                assertFalse(e.getValue().isMapped(), e.getKey());
            }
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"BF16", "NF4"})
    void convertedLoadsKeepNothingMappedAndMatchConvertingAfterwards(String form) throws IOException {
        saved(CFG);
        LoadOptions.Projections projections = LoadOptions.Projections.valueOf(form);
        try (Arena arena = Arena.ofConfined()) {
            LlamaModel m = ModelFiles.load(dir, LoadOptions.on(Device.CPU).withProjections(projections), arena);
            try (MemoryScope dequantised = MemoryScope.open()) {
                for (var e : m.namedTensors().entrySet()) {
                    assertFalse(e.getValue().isMapped(), e.getKey());
                }
            }
            LlamaModel after = LlamaModel.random(CFG, 5, Device.CPU, arena);
            if (projections == LoadOptions.Projections.BF16) {
                after.useBf16Projections(arena);
            } else {
                Quantization.quantize(after, MergeMode.OVERLAY, arena);
            }
            assertBitEqual(logits(after), logits(m));
        }
    }

    @Test
    void mergingIntoAReadOnlyLoadIsAnIllegalStateNotACrash() throws IOException {
        saved(CFG);
        try (Arena arena = Arena.ofConfined()) {
            LlamaModel m = ModelFiles.load(dir, LoadOptions.on(Device.CPU), arena);
            var peft = adapted(m, arena);
            float[] before = logits(m);
            IllegalStateException e = assertThrows(IllegalStateException.class, peft::mergeAll);
            assertTrue(e.getMessage().contains("read-only"), e.getMessage());
            AdaptedLinear first = peft.adapted().values().iterator().next();
            assertFalse(first.isMerged(), "the failed merge left the layer unmerged");
            assertBitEqual(before, logits(m));
        }
    }

    @Test
    void pretrainingAReadOnlyLoadIsRefused() throws IOException {
        saved(CFG);
        try (Arena arena = Arena.ofConfined()) {
            LlamaModel m = ModelFiles.load(dir, LoadOptions.on(Device.CPU), arena);
            m.setTrainable(true);
            assertThrows(IllegalStateException.class, () -> new AdamW(m.trainableWeights(), AdamW.Config.lr(1e-3)));
        }
    }

    @Test
    void mergingIntoAWritableLoadLeavesTheFileUnchanged() throws IOException {
        saved(CFG);
        Path weights = dir.resolve(ShardedSafetensors.SINGLE_FILE);
        byte[] fileBefore = Files.readAllBytes(weights);
        float[] baseLogits;
        try (Arena arena = Arena.ofConfined()) {
            LlamaModel m = ModelFiles.load(dir, LoadOptions.on(Device.CPU).asWritable(), arena);
            baseLogits = logits(m);
            var peft = adapted(m, arena);
            float[] adaptedLogits = logits(m);
            peft.mergeAll();
            assertArrayEquals(adaptedLogits, logits(m), 1e-4f);
            String q = "model.layers.0.self_attn.q_proj.weight";
            try (Arena other = Arena.ofConfined()) {
                float[] onDisk = ModelFiles.load(dir, LoadOptions.on(Device.CPU), other)
                        .namedTensors()
                        .get(q)
                        .toFloatArray();
                assertFalse(Arrays.equals(onDisk, m.namedTensors().get(q).toFloatArray()), "merged in memory");
            }
        }
        assertArrayEquals(fileBefore, Files.readAllBytes(weights), "the file on disk is unchanged");
        try (Arena arena = Arena.ofConfined()) {
            assertBitEqual(baseLogits, logits(ModelFiles.load(dir, LoadOptions.on(Device.CPU), arena)));
        }
    }

    @Test
    void aDirectoryWithoutConfigIsAnIoErrorNamingIt() {
        try (Arena arena = Arena.ofConfined()) {
            IOException e =
                    assertThrows(IOException.class, () -> ModelFiles.load(dir, LoadOptions.on(Device.CPU), arena));
            assertTrue(e.getMessage().contains(ModelFiles.CONFIG), e.getMessage());
            assertTrue(e.getMessage().contains(dir.toString()), e.getMessage());
        }
    }

    @Test
    void aWritableLoadOfReadOnlyFilesCopiesTheWeightsAndMerges() throws IOException {
        Path d = saved(CFG);
        Path file = d.resolve("model.safetensors");
        byte[] before = Files.readAllBytes(file);
        assertTrue(file.toFile().setWritable(false, false));
        try (Arena arena = Arena.ofConfined()) {
            LlamaModel m = ModelFiles.load(d, LoadOptions.on(Device.CPU).asWritable(), arena);
            adapted(m, arena).mergeAll();
        } finally {
            file.toFile().setWritable(true, false);
        }
        assertArrayEquals(before, Files.readAllBytes(file));
    }
}
