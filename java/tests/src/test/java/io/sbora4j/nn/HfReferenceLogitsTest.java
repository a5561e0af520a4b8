package io.sbora4j.nn;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sbora4j.autograd.NoGrad;
import io.sbora4j.io.LoadOptions;
import io.sbora4j.io.ModelFiles;
import io.sbora4j.io.SafetensorsWriter;
import io.sbora4j.nn.HfTransformersReference.Spec;
import io.sbora4j.peft.AdaptedLinear;
import io.sbora4j.peft.AdapterConfig;
import io.sbora4j.peft.AdapterMethods;
import io.sbora4j.peft.PeftModel;
import io.sbora4j.tensor.Device;
import io.sbora4j.tensor.Tensor;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Tiny random LLaMA 3.1, linear- and dynamic-scaled LLaMA, Qwen2 and Mistral checkpoints, written as HF publishes
 * them (config.json and model.safetensors) and loaded through {@link ModelFiles#load}, give the logits of
 * {@link HfTransformersReference}, an independent double-precision transcription of HF's forward pass, within
 * {@value #TOLERANCE}.
 */
class HfReferenceLogitsTest {

    static final double TOLERANCE = 1e-4;

    @TempDir
    Path dir;

    private static Spec spec(
            int hidden,
            int heads,
            int kvHeads,
            int headDim,
            int maxPositions,
            boolean tie,
            double theta,
            String ropeType,
            double factor,
            boolean bias,
            int window) {
        return new Spec(
                61,
                hidden,
                72,
                2,
                heads,
                kvHeads,
                headDim,
                1e-5,
                theta,
                maxPositions,
                tie,
                ropeType,
                factor,
                1,
                4,
                64,
                bias,
                window);
    }

    @Test
    void llama31WithLlama3RopeScalingExplicitHeadDimAndTiedEmbeddings() throws IOException {
        // head_dim 16 with hidden 48 / 4 heads: the q and o projections are 64 wide, not 48. With θ 500000 and an
        // original context of 64 the wavelengths 2π/inv_freq are 6.3 (kept: below 64/4), 32 (blended) and 167 and
        // more (divided by 8: above 64/1): every branch of the llama3 scaling is used
        Spec s = spec(48, 4, 2, 16, 256, true, 500000, "llama3", 8, false, 0);
        String rope = "{\"factor\": 8.0, \"low_freq_factor\": 1.0, \"high_freq_factor\": 4.0,"
                + " \"original_max_position_embeddings\": 64, \"rope_type\": \"llama3\"}";
        double diff = compare(s, config(s, "llama", rope, ""), 40, 1);
        System.out.printf(Locale.ROOT, "llama3 rope_scaling: max |logit diff| %.3g%n", diff);
        assertRopeMatters(s, 40);
    }

    @Test
    void linearScalingUnderTheOldTypeKeyWithOneKeyValueHead() throws IOException {
        Spec s = spec(32, 4, 1, 8, 128, false, 10000, "linear", 4, false, 0);
        double diff = compare(s, config(s, "llama", "{\"type\": \"linear\", \"factor\": 4.0}", ""), 24, 2);
        System.out.printf(Locale.ROOT, "linear rope_scaling: max |logit diff| %.3g%n", diff);
        assertRopeMatters(s, 24);
    }

    @Test
    void dynamicNtkWithinAndBeyondTheOriginalContext() throws IOException {
        Spec s = spec(32, 4, 2, 8, 16, false, 10000, "dynamic", 2, false, 0);
        String cfg = config(s, "llama", "{\"rope_type\": \"dynamic\", \"factor\": 2.0}", "");
        Map<String, float[]> w = write(s, cfg);
        HfTransformersReference ref = new HfTransformersReference(s, w);
        try (Arena arena = Arena.ofConfined()) {
            LlamaModel m = ModelFiles.load(dir, LoadOptions.on(Device.CPU), arena);
            // beyond max_position_embeddings, then within it, then beyond again: each as a fresh HF model gives
            double beyond = compare(m, ref, 24, 2, 3);
            double within = compare(m, ref, 12, 1, 4);
            double again = compare(m, ref, 24, 1, 5);
            double longer = compare(m, ref, 31, 1, 6);
            System.out.printf(
                    Locale.ROOT,
                    "dynamic rope_scaling: max |logit diff| %.3g (24), %.3g (12), %.3g (24), %.3g (31)%n",
                    beyond,
                    within,
                    again,
                    longer);
        }
        assertRopeMatters(s, 24);
    }

    @Test
    void qwen2WithQkvBiasesAndTheSlidingWindowItDoesNotUse() throws IOException {
        // sliding_window 4 but use_sliding_window false: HF attends to the whole causal prefix
        Spec s = spec(32, 4, 2, 8, 128, true, 1000000, "default", 1, true, 0);
        String extra = ", \"use_sliding_window\": false, \"sliding_window\": 4, \"max_window_layers\": 2";
        double diff = compare(s, config(s, "qwen2", "null", extra), 12, 2);
        System.out.printf(Locale.ROOT, "qwen2: max |logit diff| %.3g%n", diff);
        // the biases matter
        Map<String, float[]> w = weights(s, 7);
        Spec unbiased = new Spec(
                s.vocab(),
                s.hidden(),
                s.intermediate(),
                s.layers(),
                s.heads(),
                s.kvHeads(),
                s.headDim(),
                s.eps(),
                s.theta(),
                s.maxPositionEmbeddings(),
                s.tie(),
                s.ropeType(),
                s.factor(),
                s.lowFreqFactor(),
                s.highFreqFactor(),
                s.originalMaxPositionEmbeddings(),
                false,
                0);
        int[] ids = ids(12, 1);
        assertTrue(maxDiff(
                        new HfTransformersReference(s, w).logits(ids),
                        new HfTransformersReference(unbiased, w).logits(ids))
                > 1e-2);
    }

    @Test
    void qwen2BiasesStayF32WithBf16AndNf4Projections() throws IOException {
        Spec s = spec(32, 4, 2, 8, 128, false, 10000, "default", 1, true, 0);
        Map<String, float[]> w = write(s, config(s, "qwen2", "null", ""));
        int[] ids = ids(12, 1);
        try (Arena arena = Arena.ofConfined()) {
            // bf16 rounds the projections' weights and inputs, not the biases: within 2% of the logits' range
            LlamaModel m = ModelFiles.load(
                    dir, LoadOptions.on(Device.CPU).withProjections(LoadOptions.Projections.BF16), arena);
            double[][] want = new HfTransformersReference(s, w).logits(ids);
            double worst = maxDiff(want, logitRows(m, ids, 12, s.vocab())), scale = maxAbs(want);
            System.out.printf(Locale.ROOT, "qwen2 bf16: max |logit diff| %.3g of max |logit| %.3g%n", worst, scale);
            assertTrue(worst < 0.02 * scale, "bf16: " + worst);
        }
        try (Arena arena = Arena.ofConfined()) {
            // NF4 computes with its dequantised weights in f32 and the biases as loaded: HF's forward over those
            // dequantised weights gives the same logits
            LlamaModel m = ModelFiles.load(
                    dir, LoadOptions.on(Device.CPU).withProjections(LoadOptions.Projections.NF4), arena);
            Map<String, float[]> dequantised = new LinkedHashMap<>();
            m.namedTensors().forEach((name, t) -> dequantised.put(name, t.toFloatArray()));
            assertTrue(
                    Arrays.equals(
                            w.get("model.layers.0.self_attn.q_proj.bias"),
                            dequantised.get("model.layers.0.self_attn.q_proj.bias")),
                    "the biases are not quantised");
            double worst =
                    maxDiff(new HfTransformersReference(s, dequantised).logits(ids), logitRows(m, ids, 12, s.vocab()));
            System.out.printf(Locale.ROOT, "qwen2 nf4 (vs dequantised weights): max |logit diff| %.3g%n", worst);
            assertTrue(worst < TOLERANCE, "nf4: " + worst);
        }
    }

    private static double[][] logitRows(LlamaModel m, int[] ids, int seq, int vocab) {
        float[] flat = logits(m, ids, 1, seq);
        double[][] out = new double[seq][vocab];
        for (int t = 0; t < seq; t++) {
            for (int v = 0; v < vocab; v++) {
                out[t][v] = flat[t * vocab + v];
            }
        }
        return out;
    }

    private static double maxAbs(double[][] a) {
        double m = 0;
        for (double[] row : a) {
            for (double v : row) {
                m = Math.max(m, Math.abs(v));
            }
        }
        return m;
    }

    @Test
    void mistralWithinItsSlidingWindowAndRefusedBeyondIt() throws IOException {
        Spec s = spec(40, 4, 2, 12, 128, false, 10000, "default", 1, false, 8);
        String cfg = config(s, "mistral", "null", ", \"sliding_window\": 8");
        Map<String, float[]> w = write(s, cfg);
        HfTransformersReference ref = new HfTransformersReference(s, w);
        try (Arena arena = Arena.ofConfined()) {
            LlamaModel m = ModelFiles.load(dir, LoadOptions.on(Device.CPU), arena);
            double diff = compare(m, ref, 8, 2, 1);
            System.out.printf(Locale.ROOT, "mistral (8 tokens, window 8): max |logit diff| %.3g%n", diff);
            IllegalArgumentException e = assertThrows(
                    IllegalArgumentException.class, () -> m.logits(Tensor.ofInts(Device.CPU, ids(12, 1), 1, 12)));
            assertTrue(e.getMessage().contains("sequence length 12 exceeds sliding_window 8"), e.getMessage());
        }
        // the refusal is needed: HF's window masks something at 12 tokens
        Spec full = new Spec(
                s.vocab(),
                s.hidden(),
                s.intermediate(),
                s.layers(),
                s.heads(),
                s.kvHeads(),
                s.headDim(),
                s.eps(),
                s.theta(),
                s.maxPositionEmbeddings(),
                s.tie(),
                s.ropeType(),
                s.factor(),
                s.lowFreqFactor(),
                s.highFreqFactor(),
                s.originalMaxPositionEmbeddings(),
                false,
                0);
        int[] ids = ids(12, 1);
        assertTrue(maxDiff(ref.logits(ids), new HfTransformersReference(full, w).logits(ids)) > 1e-3);
    }

    @Test
    void adaptersOnBiasedProjectionsMergeToTheSameLogits() throws IOException {
        Spec s = spec(32, 4, 2, 8, 128, false, 10000, "default", 1, true, 0);
        write(s, config(s, "qwen2", "null", ""));
        try (Arena arena = Arena.ofConfined()) {
            LlamaModel m = ModelFiles.load(dir, LoadOptions.on(Device.CPU).asWritable(), arena);
            float[] base = logits(m, ids(10, 1), 1, 10);
            var peft = PeftModel.inject(m, AdapterConfig.of(AdapterMethods.SBORA_FA, 2, 4), arena);
            SplittableRandom rng = new SplittableRandom(3);
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
            float[] adapted = logits(m, ids(10, 1), 1, 10);
            peft.mergeAll();
            float[] merged = logits(m, ids(10, 1), 1, 10);
            double change = 0, diff = 0;
            for (int i = 0; i < base.length; i++) {
                change = Math.max(change, Math.abs(adapted[i] - base[i]));
                diff = Math.max(diff, Math.abs(adapted[i] - merged[i]));
            }
            assertTrue(change > 1e-3, "the adapters change the logits: " + change);
            assertTrue(diff < TOLERANCE, "merged vs adapted: " + diff);
        }
    }

    // ---------------------------------------------------------------- helpers

    /** Writes the checkpoint, loads it, and compares {@code batch} sequences of {@code seq} tokens. */
    private double compare(Spec s, String config, int seq, int batch) throws IOException {
        Map<String, float[]> w = write(s, config);
        try (Arena arena = Arena.ofConfined()) {
            LlamaModel m = ModelFiles.load(dir, LoadOptions.on(Device.CPU), arena);
            return compare(m, new HfTransformersReference(s, w), seq, batch, 1);
        }
    }

    private static double compare(LlamaModel m, HfTransformersReference ref, int seq, int batch, long seed) {
        int[] ids = ids(seq * batch, seed);
        float[] got = logits(m, ids, batch, seq);
        int vocab = m.config().vocabSize();
        double worst = 0;
        for (int b = 0; b < batch; b++) {
            int[] one = new int[seq];
            System.arraycopy(ids, b * seq, one, 0, seq);
            double[][] want = ref.logits(one);
            for (int t = 0; t < seq; t++) {
                for (int v = 0; v < vocab; v++) {
                    worst = Math.max(worst, Math.abs(want[t][v] - got[(b * seq + t) * vocab + v]));
                }
            }
        }
        assertTrue(worst < TOLERANCE, "max |logit diff| " + worst + " at seq " + seq);
        return worst;
    }

    /** The scaled rotary frequencies change the logits: the comparison would catch their absence. */
    private static void assertRopeMatters(Spec s, int seq) {
        Map<String, float[]> w = weights(s, 7);
        Spec plain = new Spec(
                s.vocab(),
                s.hidden(),
                s.intermediate(),
                s.layers(),
                s.heads(),
                s.kvHeads(),
                s.headDim(),
                s.eps(),
                s.theta(),
                s.maxPositionEmbeddings(),
                s.tie(),
                "default",
                1,
                1,
                4,
                32,
                s.qkvBias(),
                s.slidingWindow());
        int[] ids = ids(seq, 1);
        double d = maxDiff(
                new HfTransformersReference(s, w).logits(ids), new HfTransformersReference(plain, w).logits(ids));
        assertTrue(d > 1e-3, s.ropeType() + " scaling changes the logits by only " + d);
    }

    private static double maxDiff(double[][] a, double[][] b) {
        double worst = 0;
        for (int t = 0; t < a.length; t++) {
            for (int v = 0; v < a[t].length; v++) {
                worst = Math.max(worst, Math.abs(a[t][v] - b[t][v]));
            }
        }
        return worst;
    }

    private static float[] logits(LlamaModel m, int[] ids, int batch, int seq) {
        try (NoGrad ignored = NoGrad.enter()) {
            return m.logits(Tensor.ofInts(Device.CPU, ids, batch, seq)).toFloatArray();
        }
    }

    private static int[] ids(int n, long seed) {
        SplittableRandom rng = new SplittableRandom(seed);
        int[] ids = new int[n];
        for (int i = 0; i < n; i++) {
            ids[i] = rng.nextInt(61);
        }
        return ids;
    }

    /** config.json as the hub's files have it, with {@code ropeScaling} as its JSON text and extra keys appended. */
    private static String config(Spec s, String modelType, String ropeScaling, String extra) {
        return String.format(
                Locale.ROOT,
                """
                {
                  "architectures": ["%s"],
                  "model_type": "%s",
                  "hidden_act": "silu",
                  "hidden_size": %d,
                  "intermediate_size": %d,
                  "num_attention_heads": %d,
                  "num_key_value_heads": %d,
                  "num_hidden_layers": %d,
                  "head_dim": %d,
                  "rms_norm_eps": %s,
                  "rope_theta": %s,
                  "rope_scaling": %s,
                  "max_position_embeddings": %d,
                  "tie_word_embeddings": %s,
                  "vocab_size": %d,
                  "attention_dropout": 0.0,
                  "torch_dtype": "float32"%s
                }
                """,
                switch (modelType) {
                    case "qwen2" -> "Qwen2ForCausalLM";
                    case "mistral" -> "MistralForCausalLM";
                    default -> "LlamaForCausalLM";
                },
                modelType,
                s.hidden(),
                s.intermediate(),
                s.heads(),
                s.kvHeads(),
                s.layers(),
                s.headDim(),
                Double.toString(s.eps()),
                Double.toString(s.theta()),
                ropeScaling,
                s.maxPositionEmbeddings(),
                s.tie(),
                s.vocab(),
                extra);
    }

    /** Writes config.json and model.safetensors into the temp dir; returns the weights by HF name. */
    private Map<String, float[]> write(Spec s, String config) throws IOException {
        Map<String, float[]> w = weights(s, 7);
        Files.writeString(dir.resolve("config.json"), config);
        try (Arena arena = Arena.ofConfined()) {
            Map<String, Tensor> tensors = new LinkedHashMap<>();
            for (var e : w.entrySet()) {
                tensors.put(e.getKey(), Tensor.of(arena, Device.CPU, e.getValue(), shape(s, e.getKey())));
            }
            SafetensorsWriter.write(dir.resolve("model.safetensors"), tensors, Map.of("format", "pt"));
        }
        return w;
    }

    /** Random weights large enough that attention is far from uniform, so that positions matter. */
    private static Map<String, float[]> weights(Spec s, long seed) {
        SplittableRandom rng = new SplittableRandom(seed);
        Map<String, float[]> w = new LinkedHashMap<>();
        for (String name : names(s)) {
            int[] dims = shape(s, name);
            int n = dims.length == 1 ? dims[0] : dims[0] * dims[1];
            float[] v = new float[n];
            for (int i = 0; i < n; i++) {
                double g = rng.nextGaussian();
                v[i] = (float)
                        (name.endsWith("norm.weight")
                                ? 1 + 0.1 * g
                                : name.endsWith(".bias") ? 0.3 * g : name.contains("embed") ? 0.5 * g : 0.15 * g);
            }
            w.put(name, v);
        }
        return w;
    }

    private static List<String> names(Spec s) {
        List<String> names = new ArrayList<>();
        names.add("model.embed_tokens.weight");
        for (int l = 0; l < s.layers(); l++) {
            String p = "model.layers." + l + ".";
            for (String proj : new String[] {"q_proj", "k_proj", "v_proj", "o_proj"}) {
                names.add(p + "self_attn." + proj + ".weight");
                if (s.qkvBias() && !proj.equals("o_proj")) {
                    names.add(p + "self_attn." + proj + ".bias");
                }
            }
            for (String proj : new String[] {"gate_proj", "up_proj", "down_proj"}) {
                names.add(p + "mlp." + proj + ".weight");
            }
            names.add(p + "input_layernorm.weight");
            names.add(p + "post_attention_layernorm.weight");
        }
        names.add("model.norm.weight");
        if (!s.tie()) {
            names.add("lm_head.weight");
        }
        return names;
    }

    /** The shapes of HF's nn.Linear (out, in) and nn.Embedding (vocab, hidden) weights. */
    private static int[] shape(Spec s, String name) {
        int q = s.heads() * s.headDim(), kv = s.kvHeads() * s.headDim();
        if (name.endsWith("norm.weight")) {
            return new int[] {s.hidden()};
        }
        if (name.endsWith(".bias")) {
            return new int[] {name.contains("q_proj") ? q : kv};
        }
        if (name.contains("embed_tokens") || name.equals("lm_head.weight")) {
            return new int[] {s.vocab(), s.hidden()};
        }
        if (name.contains("q_proj")) {
            return new int[] {q, s.hidden()};
        }
        if (name.contains("k_proj") || name.contains("v_proj")) {
            return new int[] {kv, s.hidden()};
        }
        if (name.contains("o_proj")) {
            return new int[] {s.hidden(), q};
        }
        if (name.contains("down_proj")) {
            return new int[] {s.hidden(), s.intermediate()};
        }
        return new int[] {s.intermediate(), s.hidden()};
    }
}
