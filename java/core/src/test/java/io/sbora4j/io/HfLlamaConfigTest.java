package io.sbora4j.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.sbora4j.nn.LlamaConfig;
import io.sbora4j.ops.RopeScaling;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.api.io.TempDir;

class HfLlamaConfigTest {

    @TempDir
    Path dir;

    /** TinyLlama-1.1B's config.json, as published: unknown keys and explicit nulls included. */
    private static final String TINY_LLAMA = """
            {
              "architectures": ["LlamaForCausalLM"],
              "attention_bias": false,
              "bos_token_id": 1,
              "eos_token_id": 2,
              "hidden_act": "silu",
              "hidden_size": 2048,
              "initializer_range": 0.02,
              "intermediate_size": 5632,
              "max_position_embeddings": 2048,
              "model_type": "llama",
              "num_attention_heads": 32,
              "num_hidden_layers": 22,
              "num_key_value_heads": 4,
              "pretraining_tp": 1,
              "rms_norm_eps": 1e-05,
              "rope_scaling": null,
              "rope_theta": 10000.0,
              "tie_word_embeddings": false,
              "torch_dtype": "bfloat16",
              "transformers_version": "4.35.0",
              "use_cache": true,
              "vocab_size": 32000
            }
            """;

    @Test
    void readsARealConfig() {
        HfLlamaConfig c = HfLlamaConfig.fromJson(TINY_LLAMA);
        assertEquals(new HfLlamaConfig(2048, 5632, 32, 4, 22, 1e-5, 10000, 32000, false, 2048), c);
        assertEquals(64, c.headDim());
    }

    @Test
    void appliesHuggingFaceDefaults() {
        HfLlamaConfig c = HfLlamaConfig.fromJson("{\"hidden_size\":64,\"intermediate_size\":128,"
                + "\"num_attention_heads\":4,\"num_hidden_layers\":2,\"vocab_size\":100,\"num_key_value_heads\":null}");
        assertEquals(HfLlamaConfig.of(64, 128, 4, 2, 100), c);
        assertEquals(4, c.numKeyValueHeads());
        assertEquals(1e-6, c.rmsNormEps());
        assertEquals(10000, c.ropeTheta());
        assertEquals(2048, c.maxPositionEmbeddings());
        assertEquals(false, c.tieWordEmbeddings());
    }

    @Test
    void roundTripsThroughAFileAsHuggingFaceJson() throws Exception {
        HfLlamaConfig c = new HfLlamaConfig(256, 688, 8, 2, 4, 1e-5, 500000, 1000, true, 4096);
        Path p = dir.resolve("config.json");
        Files.writeString(p, "old");
        c.write(p);
        assertEquals(c, HfLlamaConfig.read(p));
        JsonNode json = StrictJson.parse(Files.readString(p));
        assertEquals("LlamaForCausalLM", json.get("architectures").get(0).textValue());
        assertEquals("llama", json.get("model_type").textValue());
        assertEquals("float32", json.get("torch_dtype").textValue());
        assertEquals("silu", json.get("hidden_act").textValue());
        assertEquals(32, json.get("head_dim").intValue());
        assertEquals(2, json.get("num_key_value_heads").intValue());
        assertEquals(1, Files.list(dir).count(), "no temporary file left behind");
    }

    @Test
    void invalidSizesSayWhatIsWrong() {
        expect(
                "hidden_size 100 is not divisible by num_attention_heads 3",
                () -> new HfLlamaConfig(100, 8, 3, 3, 1, 1e-6, 1e4, 10, false, 16));
        expect(
                "num_attention_heads 8 is not divisible by num_key_value_heads 3",
                () -> new HfLlamaConfig(64, 8, 8, 3, 1, 1e-6, 1e4, 10, false, 16));
        expect("num_hidden_layers must be positive, got 0", () -> HfLlamaConfig.of(64, 8, 8, 0, 10));
        expect("vocab_size must be positive", () -> HfLlamaConfig.of(64, 8, 8, 1, -5));
        expect("rms_norm_eps must be positive", () -> new HfLlamaConfig(64, 8, 8, 8, 1, 0, 1e4, 10, false, 16));
        expect(
                "rope_theta must be positive and finite",
                () -> new HfLlamaConfig(64, 8, 8, 8, 1, 1e-6, Double.NaN, 10, false, 16));
        expect("must be even", () -> HfLlamaConfig.of(24, 8, 8, 1, 10));
    }

    @Test
    void invalidJsonSaysWhatIsWrong() {
        String base = "\"hidden_size\":64,\"intermediate_size\":128,\"num_attention_heads\":4,\"num_hidden_layers\":2";
        expect("lacks \"vocab_size\"", () -> HfLlamaConfig.fromJson("{" + base + "}"));
        expect("vocab_size must be an integer", () -> HfLlamaConfig.fromJson("{" + base + ",\"vocab_size\":1.5}"));
        expect("vocab_size must be an integer", () -> HfLlamaConfig.fromJson("{" + base + ",\"vocab_size\":\"100\"}"));
        expect(
                "tie_word_embeddings must be true or false",
                () -> HfLlamaConfig.fromJson("{" + base + ",\"vocab_size\":9,\"tie_word_embeddings\":1}"));
        expect(
                "rope_scaling",
                () -> HfLlamaConfig.fromJson(
                        "{" + base + ",\"vocab_size\":9,\"rope_scaling\":{\"rope_type\":\"llama3\",\"factor\":8.0}}"));
        expect(
                "model_type \"gemma\" is not supported",
                () -> HfLlamaConfig.fromJson("{" + base + ",\"vocab_size\":9,\"model_type\":\"gemma\"}"));
        expect(
                "hidden_act \"gelu\"",
                () -> HfLlamaConfig.fromJson("{" + base + ",\"vocab_size\":9,\"hidden_act\":\"gelu\"}"));
        expect(
                "attention_bias true",
                () -> HfLlamaConfig.fromJson("{" + base + ",\"vocab_size\":9,\"attention_bias\":true}"));
        expect(
                "head_dim must be positive",
                () -> HfLlamaConfig.fromJson("{" + base + ",\"vocab_size\":9,\"head_dim\":0}"));
        expect(
                "head_dim 15 must be even",
                () -> HfLlamaConfig.fromJson("{" + base + ",\"vocab_size\":9,\"head_dim\":15}"));
        expect("Duplicate", () -> HfLlamaConfig.fromJson("{" + base + ",\"vocab_size\":9,\"vocab_size\":10}"));
        expect("not valid JSON", () -> HfLlamaConfig.fromJson("{"));
        expect("not a JSON object", () -> HfLlamaConfig.fromJson("[]"));
        HfLlamaConfig.fromJson("{" + base + ",\"vocab_size\":9,\"head_dim\":16,\"mlp_bias\":false}"); // consistent
    }

    /** config.json of meta-llama/Llama-3.1-8B-Instruct as published. */
    static final String LLAMA_3_1_8B = """
            {"architectures": ["LlamaForCausalLM"], "attention_bias": false, "attention_dropout": 0.0,
             "bos_token_id": 128000, "eos_token_id": [128001, 128008, 128009], "hidden_act": "silu",
             "hidden_size": 4096, "initializer_range": 0.02, "intermediate_size": 14336,
             "max_position_embeddings": 131072, "mlp_bias": false, "model_type": "llama", "num_attention_heads": 32,
             "num_hidden_layers": 32, "num_key_value_heads": 8, "pretraining_tp": 1, "rms_norm_eps": 1e-05,
             "rope_scaling": {"factor": 8.0, "low_freq_factor": 1.0, "high_freq_factor": 4.0,
             "original_max_position_embeddings": 8192, "rope_type": "llama3"}, "rope_theta": 500000.0,
             "tie_word_embeddings": false, "torch_dtype": "bfloat16", "transformers_version": "4.43.0.dev0",
             "use_cache": true, "vocab_size": 128256}
            """;

    /** config.json of Qwen/Qwen2.5-0.5B-Instruct as published. */
    static final String QWEN2_5_0_5B = """
            {"architectures": ["Qwen2ForCausalLM"], "attention_dropout": 0.0, "bos_token_id": 151643,
             "eos_token_id": 151645, "hidden_act": "silu", "hidden_size": 896, "initializer_range": 0.02,
             "intermediate_size": 4864, "max_position_embeddings": 32768, "max_window_layers": 21,
             "model_type": "qwen2", "num_attention_heads": 14, "num_hidden_layers": 24, "num_key_value_heads": 2,
             "rms_norm_eps": 1e-06, "rope_theta": 1000000.0, "sliding_window": 32768, "tie_word_embeddings": true,
             "torch_dtype": "bfloat16", "transformers_version": "4.43.1", "use_cache": true,
             "use_sliding_window": false, "vocab_size": 151936}
            """;

    /** config.json of mistralai/Mistral-7B-Instruct-v0.3 as published. */
    static final String MISTRAL_7B_V0_3 = """
            {"architectures": ["MistralForCausalLM"], "attention_dropout": 0.0, "bos_token_id": 1,
             "eos_token_id": 2, "hidden_act": "silu", "hidden_size": 4096, "initializer_range": 0.02,
             "intermediate_size": 14336, "max_position_embeddings": 32768, "model_type": "mistral",
             "num_attention_heads": 32, "num_hidden_layers": 32, "num_key_value_heads": 8, "rms_norm_eps": 1e-05,
             "rope_theta": 1000000.0, "sliding_window": null, "tie_word_embeddings": false,
             "torch_dtype": "bfloat16", "transformers_version": "4.42.0.dev0", "use_cache": true,
             "vocab_size": 32768}
            """;

    @Test
    void publishedConfigsAreRead() {
        LlamaConfig l = HfLlamaConfig.fromJson(LLAMA_3_1_8B).toModelConfig();
        assertEquals(RopeScaling.llama3(8, 1, 4, 8192), l.ropeScaling());
        assertEquals(500000.0, l.ropeTheta());
        assertEquals(128, l.headDim());
        LlamaConfig q = HfLlamaConfig.fromJson(QWEN2_5_0_5B).toModelConfig();
        assertTrue(q.qkvBias() && q.tieWordEmbeddings());
        assertEquals(0, q.slidingWindow());
        assertEquals(64, q.headDim());
        LlamaConfig m = HfLlamaConfig.fromJson(MISTRAL_7B_V0_3).toModelConfig();
        assertEquals(0, m.slidingWindow());
        assertEquals(RopeScaling.NONE, m.ropeScaling());
    }

    private static final String BASE = "{\"hidden_size\":64,\"intermediate_size\":128,\"num_attention_heads\":4,"
            + "\"num_key_value_heads\":2,\"num_hidden_layers\":2,\"vocab_size\":9,\"max_position_embeddings\":4096";

    private static HfLlamaConfig parse(String extra) {
        return HfLlamaConfig.fromJson(BASE + extra + "}");
    }

    @Test
    void ropeScalingTypesAreReadUnderEitherKey() {
        HfLlamaConfig l3 = parse(",\"rope_theta\":500000.0,\"rope_scaling\":{\"factor\":8.0,\"low_freq_factor\":1.0,"
                + "\"high_freq_factor\":4.0,\"original_max_position_embeddings\":8192,\"rope_type\":\"llama3\"}");
        assertEquals(RopeScaling.llama3(8, 1, 4, 8192), l3.ropeScaling());
        assertEquals(500000.0, l3.ropeTheta());
        assertEquals(
                RopeScaling.linear(2),
                parse(",\"rope_scaling\":{\"type\":\"linear\",\"factor\":2.0}").ropeScaling());
        assertEquals(
                RopeScaling.dynamic(2, 4096),
                parse(",\"rope_scaling\":{\"type\":\"dynamic\",\"factor\":2}").ropeScaling());
        assertEquals(
                RopeScaling.NONE,
                parse(",\"rope_scaling\":{\"rope_type\":\"default\"}").ropeScaling());
        // rope_type wins over type, as in HF
        assertEquals(
                RopeScaling.linear(3),
                parse(",\"rope_scaling\":{\"rope_type\":\"linear\",\"type\":\"yarn\",\"factor\":3}")
                        .ropeScaling());
        for (HfLlamaConfig c : List.of(l3, parse(",\"rope_scaling\":{\"type\":\"linear\",\"factor\":2.0}"))) {
            assertEquals(c, HfLlamaConfig.fromJson(c.toJson()));
            assertEquals(c, HfLlamaConfig.from(c.toModelConfig()));
        }
    }

    @Test
    void unsupportedRopeScalingIsOneLineNamingTheType() {
        for (String type : List.of("yarn", "longrope", "ntk", "su")) {
            IllegalArgumentException e = assertThrows(
                    IllegalArgumentException.class,
                    () -> parse(",\"rope_scaling\":{\"rope_type\":\"" + type + "\",\"factor\":4.0}"));
            assertEquals(
                    "rope_scaling type \"" + type + "\" is not supported (only default, linear, dynamic and llama3)",
                    e.getMessage());
        }
        expect(
                "rope_scaling lacks \"low_freq_factor\"",
                () -> parse(",\"rope_scaling\":{\"rope_type\":\"llama3\"," + "\"factor\":8.0}"));
        expect("rope_scaling lacks \"factor\"", () -> parse(",\"rope_scaling\":{\"rope_type\":\"linear\"}"));
        expect("rope_scaling lacks a textual", () -> parse(",\"rope_scaling\":{\"factor\":2}"));
        expect("rope_scaling must be an object", () -> parse(",\"rope_scaling\":3"));
        expect(
                "original_max_position_embeddings 2048 differs",
                () -> parse(",\"rope_scaling\":{\"type\":\"dynamic\",\"factor\":2,"
                        + "\"original_max_position_embeddings\":2048}"));
        expect(
                "high_freq_factor 1.0 must exceed",
                () -> parse(",\"rope_scaling\":{\"rope_type\":\"llama3\","
                        + "\"factor\":8.0,\"low_freq_factor\":1.0,\"high_freq_factor\":1.0,"
                        + "\"original_max_position_embeddings\":8192}"));
    }

    @Test
    void qwen2AndMistralAreRead() {
        HfLlamaConfig q = parse(",\"model_type\":\"qwen2\",\"use_sliding_window\":false,\"sliding_window\":131072,"
                + "\"max_window_layers\":28,\"tie_word_embeddings\":true,\"rope_scaling\":null");
        assertTrue(q.toModelConfig().qkvBias());
        assertEquals(0, q.toModelConfig().slidingWindow());
        HfLlamaConfig m = parse(",\"model_type\":\"mistral\",\"sliding_window\":4096,\"head_dim\":32");
        assertEquals(4096, m.toModelConfig().slidingWindow());
        assertEquals(32, m.toModelConfig().headDim());
        assertEquals(128, m.toModelConfig().qWidth());
        assertEquals(
                0, parse(",\"model_type\":\"mistral\",\"sliding_window\":null").slidingWindow());
        for (HfLlamaConfig c : List.of(q, m)) {
            assertEquals(c, HfLlamaConfig.fromJson(c.toJson()));
            assertEquals(c, HfLlamaConfig.from(c.toModelConfig()));
        }
        expect(
                "use_sliding_window true is not supported for qwen2",
                () -> parse(",\"model_type\":\"qwen2\",\"use_sliding_window\":true"));
        expect(
                "layer_types entry \"sliding_attention\"",
                () -> parse(",\"model_type\":\"qwen2\",\"layer_types\":[\"full_attention\",\"sliding_attention\"]"));
        expect("mlp_bias true", () -> parse(",\"model_type\":\"qwen2\",\"mlp_bias\":true"));
        expect("partial_rotary_factor 0.5", () -> parse(",\"partial_rotary_factor\":0.5"));
        expect("attention_dropout 0.1", () -> parse(",\"attention_dropout\":0.1"));
        parse(",\"attention_dropout\":0.0,\"partial_rotary_factor\":1.0"); // the values that change nothing
    }

    @Test
    void readNamesTheFile() throws Exception {
        Path p = dir.resolve("config.json");
        Files.writeString(p, "{\"hidden_size\":0}");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> HfLlamaConfig.read(p));
        assertTrue(e.getMessage().startsWith(p.toString()), e.getMessage());
    }

    private static void expect(String part, Executable call) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, call);
        assertTrue(e.getMessage().contains(part), "expected '" + part + "' in: " + e.getMessage());
    }
}
