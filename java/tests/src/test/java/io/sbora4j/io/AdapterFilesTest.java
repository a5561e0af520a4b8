package io.sbora4j.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sbora4j.autograd.NoGrad;
import io.sbora4j.nn.LlamaConfig;
import io.sbora4j.nn.LlamaModel;
import io.sbora4j.peft.AdaptedLinear;
import io.sbora4j.peft.AdapterConfig;
import io.sbora4j.peft.AdapterMethod;
import io.sbora4j.peft.AdapterMethods;
import io.sbora4j.peft.PeftModel;
import io.sbora4j.tensor.DType;
import io.sbora4j.tensor.Device;
import io.sbora4j.tensor.Tensor;
import io.sbora4j.testing.Methods;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** Native adapter directories (save, load) and the PEFT LoRA export. */
class AdapterFilesTest {

    private static final LlamaConfig CFG = new LlamaConfig(259, 32, 64, 2, 4, 2, 1e-6, 10000, 64, false);
    private static final int R = 2;
    private static final double ALPHA = 6;

    @TempDir
    Path dir;

    private static LlamaModel base(LlamaConfig cfg, Arena arena) {
        return LlamaModel.random(cfg, 3, Device.CPU, arena);
    }

    private static AdapterConfig config(AdapterMethod m) {
        return AdapterConfig.of(m, R, ALPHA).withSeed(17);
    }

    /** An injected model whose adapters hold random values (fresh adapters are a no-op: B = 0). */
    private static PeftModel<LlamaModel> trained(AdapterMethod m, Arena arena) {
        var peft = PeftModel.inject(base(CFG, arena), config(m), arena);
        SplittableRandom rng = new SplittableRandom(Methods.all().toList().indexOf(m) + 100);
        for (AdaptedLinear a : peft.adapted().values()) {
            for (Tensor t : a.trainable()) {
                float[] v = t.toFloatArray();
                boolean magnitude = t.name() != null && t.name().endsWith("magnitude");
                for (int i = 0; i < v.length; i++) {
                    double u = rng.nextDouble() * 2 - 1;
                    v[i] = magnitude ? (float) (v[i] * (1 + 0.3 * u)) : (float) (0.2 * u);
                }
                t.copyFrom(v);
            }
        }
        peft.train(false);
        return peft;
    }

    private static float[] logits(LlamaModel m) {
        try (NoGrad ignored = NoGrad.enter()) {
            return m.logits(Tensor.ofInts(Device.CPU, new int[] {256, 1, 2, 3, 250, 99}, 1, 6))
                    .toFloatArray();
        }
    }

    private static void assertBitEqual(float[] expected, float[] actual, String what) {
        assertEquals(expected.length, actual.length, what);
        for (int i = 0; i < expected.length; i++) {
            assertEquals(
                    Float.floatToRawIntBits(expected[i]),
                    Float.floatToRawIntBits(actual[i]),
                    what + " [" + i + "]: " + expected[i] + " vs " + actual[i]);
        }
    }

    @ParameterizedTest
    @MethodSource("io.sbora4j.testing.Methods#all")
    void saveThenLoadIntoAFreshBaseGivesIdenticalLogits(AdapterMethod m) throws IOException {
        try (Arena arena = Arena.ofConfined()) {
            var peft = trained(m, arena);
            float[] expected = logits(peft.model());
            AdapterFiles.save(peft, dir);
            assertTrue(Files.isRegularFile(dir.resolve(AdapterFiles.CONFIG)));
            assertTrue(Files.isRegularFile(dir.resolve(AdapterFiles.WEIGHTS)));
            assertEquals(config(m), AdapterFiles.readConfig(dir));

            LlamaModel fresh = base(CFG, arena);
            assertFalse(Arrays.equals(expected, logits(fresh)), "the adapter changes the output");
            var loaded = AdapterFiles.load(dir, fresh, arena);
            loaded.train(false);
            assertEquals(peft.adapted().keySet(), loaded.adapted().keySet());
            assertBitEqual(expected, logits(fresh), m + " logits");
            for (var e : peft.adapted().entrySet()) {
                for (var t : e.getValue().adapter().tensors().entrySet()) {
                    Tensor other =
                            loaded.adapted().get(e.getKey()).adapter().tensors().get(t.getKey());
                    if (t.getValue().dtype() == DType.I32) {
                        assertArrayEquals(t.getValue().toIntArray(), other.toIntArray(), e.getKey() + "." + t.getKey());
                    } else {
                        assertBitEqual(
                                t.getValue().toFloatArray(), other.toFloatArray(), e.getKey() + "." + t.getKey());
                    }
                }
            }
        }
    }

    @Test
    void sboraIndicesComeFromTheFileNotFromTheSeed() throws IOException {
        try (Arena arena = Arena.ofConfined()) {
            String path = "model.layers.0.self_attn.q_proj";
            var peft = PeftModel.inject(
                    base(CFG, arena), config(AdapterMethods.SBORA_FA).withIndices(path, 31, 0), arena);
            AdapterFiles.save(peft, dir);
            var loaded = AdapterFiles.load(dir, base(CFG, arena), arena);
            assertArrayEquals(
                    new int[] {31, 0},
                    loaded.adapted().get(path).adapter().tensors().get("idx").toIntArray());
        }
    }

    @Test
    void loadingOntoAModelOfAnotherShapeNamesTheLayer() throws IOException {
        try (Arena arena = Arena.ofConfined()) {
            AdapterFiles.save(trained(AdapterMethods.LORA, arena), dir);
            LlamaModel wider = base(new LlamaConfig(259, 48, 64, 2, 4, 2, 1e-6, 10000, 64, false), arena);
            IllegalArgumentException e =
                    assertThrows(IllegalArgumentException.class, () -> AdapterFiles.load(dir, wider, arena));
            assertTrue(e.getMessage().contains("model.layers.0.self_attn.q_proj"), e.getMessage());
            assertTrue(e.getMessage().contains("48x48") && e.getMessage().contains("32x32"), e.getMessage());
        }
    }

    @Test
    void loadingOntoAModelWithoutTheLayerNamesIt() throws IOException {
        try (Arena arena = Arena.ofConfined()) {
            AdapterFiles.save(trained(AdapterMethods.SBORA_FB, arena), dir);
            LlamaModel oneLayer = base(new LlamaConfig(259, 32, 64, 1, 4, 2, 1e-6, 10000, 64, false), arena);
            IllegalArgumentException e =
                    assertThrows(IllegalArgumentException.class, () -> AdapterFiles.load(dir, oneLayer, arena));
            assertTrue(e.getMessage().contains("model.layers.1."), e.getMessage());
            assertTrue(e.getMessage().contains("does not exist"), e.getMessage());
        }
    }

    @Test
    void aMissingTensorIsNamed() throws IOException {
        try (Arena arena = Arena.ofConfined()) {
            AdapterFiles.save(trained(AdapterMethods.LORA, arena), dir);
            Map<String, Tensor> kept = new LinkedHashMap<>();
            Map<String, String> meta;
            String dropped = "model.layers.1.mlp.up_proj.lora_B";
            SafetensorsFile f = SafetensorsFile.open(dir.resolve(AdapterFiles.WEIGHTS), arena);
            meta = f.metadata();
            for (String name : f.names()) {
                if (!name.equals(dropped)) {
                    kept.put(name, f.tensor(name, arena, Device.CPU));
                }
            }
            SafetensorsWriter.write(dir.resolve(AdapterFiles.WEIGHTS), kept, meta);
            IllegalArgumentException e =
                    assertThrows(IllegalArgumentException.class, () -> AdapterFiles.load(dir, base(CFG, arena), arena));
            assertTrue(e.getMessage().contains(dropped), e.getMessage());
        }
    }

    @Test
    void aDirectoryWithoutConfigIsAnIoError() throws IOException {
        try (Arena arena = Arena.ofConfined()) {
            IOException e = assertThrows(IOException.class, () -> AdapterFiles.load(dir, base(CFG, arena), arena));
            assertTrue(e.getMessage().contains(AdapterFiles.CONFIG), e.getMessage());
        }
    }

    // ------------------------------------------------------------------------------------------ PEFT export

    private record Exported(Map<String, float[]> tensors, Map<String, int[]> shapes, JsonNode config) {}

    private Exported export(PeftModel<LlamaModel> peft) throws IOException {
        Path native_ = dir.resolve("native"), peftDir = dir.resolve("peft");
        AdapterFiles.save(peft, native_);
        AdapterFiles.exportPeft(native_, peftDir);
        Map<String, float[]> tensors = new LinkedHashMap<>();
        Map<String, int[]> shapes = new LinkedHashMap<>();
        try (Arena arena = Arena.ofConfined()) {
            SafetensorsFile f = SafetensorsFile.open(peftDir.resolve(AdapterFiles.WEIGHTS), arena);
            for (String name : f.names()) {
                Tensor t = f.tensor(name, arena, Device.CPU);
                tensors.put(name, t.toFloatArray());
                shapes.put(name, t.shape().dims());
            }
        }
        return new Exported(
                tensors, shapes, new ObjectMapper().readTree(Files.readString(peftDir.resolve(AdapterFiles.CONFIG))));
    }

    @ParameterizedTest
    @MethodSource("io.sbora4j.testing.Methods#all")
    void exportPeftWritesLoraKeysAndShapes(AdapterMethod m) throws IOException {
        try (Arena arena = Arena.ofConfined()) {
            var peft = trained(m, arena);
            Exported ex = export(peft);
            Set<String> expectedKeys = new HashSet<>();
            for (AdaptedLinear a : peft.adapted().values()) {
                String key = "base_model.model." + a.name();
                expectedKeys.add(key + ".lora_A.weight");
                expectedKeys.add(key + ".lora_B.weight");
                assertArrayEquals(new int[] {R, a.inFeatures()}, ex.shapes().get(key + ".lora_A.weight"), key);
                assertArrayEquals(new int[] {a.outFeatures(), R}, ex.shapes().get(key + ".lora_B.weight"), key);
                if (m == AdapterMethods.DORA) {
                    expectedKeys.add(key + ".lora_magnitude_vector");
                    assertArrayEquals(new int[] {a.outFeatures()}, ex.shapes().get(key + ".lora_magnitude_vector"));
                    assertBitEqual(
                            a.adapter().tensors().get("magnitude").toFloatArray(),
                            ex.tensors().get(key + ".lora_magnitude_vector"),
                            key + " magnitude");
                }
            }
            assertEquals(expectedKeys, ex.tensors().keySet());
            JsonNode c = ex.config();
            assertEquals("LORA", c.get("peft_type").asText());
            assertEquals(R, c.get("r").asInt());
            assertEquals(ALPHA, c.get("lora_alpha").asDouble());
            assertEquals(m == AdapterMethods.DORA, c.get("use_dora").asBoolean());
            assertEquals(
                    AdapterConfig.LLAMA_TARGETS.size(), c.get("target_modules").size());
        }
    }

    @Test
    void sboraFaExportsOneHotRowsOfAAtItsIndices() throws IOException {
        try (Arena arena = Arena.ofConfined()) {
            var peft = trained(AdapterMethods.SBORA_FA, arena);
            Exported ex = export(peft);
            for (AdaptedLinear a : peft.adapted().values()) {
                int[] idx = a.adapter().tensors().get("idx").toIntArray();
                float[] aT = ex.tensors().get("base_model.model." + a.name() + ".lora_A.weight");
                int in = a.inFeatures();
                for (int j = 0; j < R; j++) {
                    for (int c = 0; c < in; c++) {
                        assertEquals(c == idx[j] ? 1f : 0f, aT[j * in + c], a.name() + " A[" + j + "][" + c + "]");
                    }
                }
                assertBitEqual(
                        a.adapter().tensors().get("lora_B").toFloatArray(),
                        ex.tensors().get("base_model.model." + a.name() + ".lora_B.weight"),
                        a.name() + " B");
            }
        }
    }

    @Test
    void sboraFbExportsOneHotColumnsOfBAtItsIndices() throws IOException {
        try (Arena arena = Arena.ofConfined()) {
            var peft = trained(AdapterMethods.SBORA_FB, arena);
            Exported ex = export(peft);
            for (AdaptedLinear a : peft.adapted().values()) {
                int[] idx = a.adapter().tensors().get("idx").toIntArray();
                float[] b = ex.tensors().get("base_model.model." + a.name() + ".lora_B.weight");
                for (int row = 0; row < a.outFeatures(); row++) {
                    for (int j = 0; j < R; j++) {
                        assertEquals(row == idx[j] ? 1f : 0f, b[row * R + j], a.name() + " B[" + row + "][" + j + "]");
                    }
                }
                assertBitEqual(
                        a.adapter().tensors().get("lora_A").toFloatArray(),
                        ex.tensors().get("base_model.model." + a.name() + ".lora_A.weight"),
                        a.name() + " A");
            }
        }
    }

    /**
     * The exported adapter, applied with PEFT's LoRA math in plain loops (y = x·Wᵀ + (alpha/r)·x·Aᵀ·Bᵀ, and for
     * DoRA y = m / ‖W + (alpha/r)·B·A‖_row ⊙ that), reproduces the native adapter's forward on every layer.
     */
    @ParameterizedTest
    @MethodSource("io.sbora4j.testing.Methods#all")
    void theExportedLoraMathReproducesTheNativeForward(AdapterMethod m) throws IOException {
        try (Arena arena = Arena.ofConfined()) {
            var peft = trained(m, arena);
            Exported ex = export(peft);
            double s = ex.config().get("lora_alpha").asDouble()
                    / ex.config().get("r").asInt();
            SplittableRandom rng = new SplittableRandom(8);
            int tokens = 5;
            for (AdaptedLinear layer : peft.adapted().values()) {
                int in = layer.inFeatures(), out = layer.outFeatures();
                String key = "base_model.model." + layer.name();
                float[] w = peft.model()
                        .namedTensors()
                        .get(layer.name() + ".weight")
                        .toFloatArray();
                float[] a = ex.tensors().get(key + ".lora_A.weight"),
                        b = ex.tensors().get(key + ".lora_B.weight");
                float[] x = new float[tokens * in];
                for (int i = 0; i < x.length; i++) {
                    x[i] = (float) (rng.nextDouble() * 2 - 1);
                }
                float[] nativeY;
                try (NoGrad ignored = NoGrad.enter()) {
                    nativeY =
                            layer.forward(Tensor.of(Device.CPU, x, tokens, in)).toFloatArray();
                }
                // W' = W + s·B·A, row by row
                double[] merged = new double[out * in];
                for (int o = 0; o < out; o++) {
                    for (int c = 0; c < in; c++) {
                        double d = 0;
                        for (int j = 0; j < R; j++) {
                            d += (double) b[o * R + j] * a[j * in + c];
                        }
                        merged[o * in + c] = w[o * in + c] + s * d;
                    }
                }
                double[] rowScale = new double[out];
                Arrays.fill(rowScale, 1);
                if (m == AdapterMethods.DORA) {
                    float[] mag = ex.tensors().get(key + ".lora_magnitude_vector");
                    for (int o = 0; o < out; o++) {
                        double sq = 0;
                        for (int c = 0; c < in; c++) {
                            sq += merged[o * in + c] * merged[o * in + c];
                        }
                        rowScale[o] = mag[o] / Math.sqrt(sq);
                    }
                }
                for (int t = 0; t < tokens; t++) {
                    for (int o = 0; o < out; o++) {
                        // x·Wᵀ + s·(x·Aᵀ)·Bᵀ, computed the LoRA way (through the rank-r bottleneck)
                        double base = 0;
                        for (int c = 0; c < in; c++) {
                            base += (double) x[t * in + c] * w[o * in + c];
                        }
                        double lora = 0;
                        for (int j = 0; j < R; j++) {
                            double xa = 0;
                            for (int c = 0; c < in; c++) {
                                xa += (double) x[t * in + c] * a[j * in + c];
                            }
                            lora += xa * b[o * R + j];
                        }
                        double y = rowScale[o] * (base + s * lora);
                        assertEquals(
                                y, nativeY[t * out + o], 1e-5, m + " " + layer.name() + " y[" + t + "][" + o + "]");
                    }
                }
            }
        }
    }

    @Test
    void exportOfADirectoryWithoutConfigFails() {
        assertThrows(IOException.class, () -> AdapterFiles.exportPeft(dir, dir.resolve("out")));
    }

    @Test
    void exportedConfigTargetsTheConfiguredModules() throws IOException {
        try (Arena arena = Arena.ofConfined()) {
            var peft = PeftModel.inject(
                    base(CFG, arena), config(AdapterMethods.SBORA_FA).withTargets(List.of("q_proj", "v_proj")), arena);
            Exported ex = export(peft);
            assertEquals(
                    "[\"q_proj\",\"v_proj\"]", ex.config().get("target_modules").toString());
            assertEquals(2 * 2 * CFG.layers(), ex.tensors().size());
        }
    }
}
