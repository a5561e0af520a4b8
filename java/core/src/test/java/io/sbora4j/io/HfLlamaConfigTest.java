package io.sbora4j.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Files;
import java.nio.file.Path;
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
                "model_type \"mistral\" is not supported",
                () -> HfLlamaConfig.fromJson("{" + base + ",\"vocab_size\":9,\"model_type\":\"mistral\"}"));
        expect(
                "hidden_act \"gelu\"",
                () -> HfLlamaConfig.fromJson("{" + base + ",\"vocab_size\":9,\"hidden_act\":\"gelu\"}"));
        expect(
                "attention_bias true",
                () -> HfLlamaConfig.fromJson("{" + base + ",\"vocab_size\":9,\"attention_bias\":true}"));
        expect("head_dim 32 differs", () -> HfLlamaConfig.fromJson("{" + base + ",\"vocab_size\":9,\"head_dim\":32}"));
        expect("Duplicate", () -> HfLlamaConfig.fromJson("{" + base + ",\"vocab_size\":9,\"vocab_size\":10}"));
        expect("not valid JSON", () -> HfLlamaConfig.fromJson("{"));
        expect("not a JSON object", () -> HfLlamaConfig.fromJson("[]"));
        HfLlamaConfig.fromJson("{" + base + ",\"vocab_size\":9,\"head_dim\":16,\"mlp_bias\":false}"); // consistent
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
