package io.sbora4j.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sbora4j.nn.LlamaConfig;
import io.sbora4j.testing.FuzzCases;
import io.sbora4j.testing.Mutations;
import io.sbora4j.testing.TryTimeout;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.SplittableRandom;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.lifecycle.AddLifecycleHook;
import net.jqwik.api.lifecycle.AfterContainer;
import net.jqwik.api.lifecycle.BeforeContainer;

/**
 * Fuzzing of config.json: real configs damaged one to four times (numbers at the edges of every integer type,
 * values of other types, duplicated or deleted keys, deep nesting, huge numbers and strings, bytes that are not
 * UTF-8). {@link HfLlamaConfig#read} may only refuse with a one-line {@link IllegalArgumentException} naming the
 * file; a config it accepts describes a model the library can build (every size positive, heads dividing the
 * width unless head_dim is given, kv heads dividing heads, an even head width, finite positive eps and theta) and survives a round trip.
 * Tries: jqwik's default (1,000; {@code -Pfuzz}: 100,000).
 */
@AddLifecycleHook(TryTimeout.class)
class HfLlamaConfigFuzz {

    private static final FuzzCases CASES = new FuzzCases("config.json", IllegalArgumentException.class);

    private static final List<String> SEEDS = List.of(
            """
            {"architectures": ["LlamaForCausalLM"], "attention_bias": false, "bos_token_id": 1, "eos_token_id": 2,
             "hidden_act": "silu", "hidden_size": 2048, "initializer_range": 0.02, "intermediate_size": 5632,
             "max_position_embeddings": 2048, "model_type": "llama", "num_attention_heads": 32,
             "num_hidden_layers": 22, "num_key_value_heads": 4, "pretraining_tp": 1, "rms_norm_eps": 1e-05,
             "rope_scaling": null, "rope_theta": 10000.0, "tie_word_embeddings": false, "torch_dtype": "bfloat16",
             "transformers_version": "4.35.0", "use_cache": true, "vocab_size": 32000}
            """,
            HfLlamaConfig.of(64, 128, 4, 2, 259).toJson(),
            """
            {"model_type": "llama", "hidden_size": 4096, "intermediate_size": 14336, "num_attention_heads": 32,
             "num_key_value_heads": 8, "num_hidden_layers": 32, "rms_norm_eps": 1e-5, "rope_theta": 500000.0,
             "vocab_size": 128256, "max_position_embeddings": 131072, "head_dim": 128, "mlp_bias": false,
             "tie_word_embeddings": true}
            """,
            HfLlamaConfigTest.LLAMA_3_1_8B,
            HfLlamaConfigTest.QWEN2_5_0_5B,
            HfLlamaConfigTest.MISTRAL_7B_V0_3);

    private static Path dir;

    @BeforeContainer
    static void dir() throws IOException {
        dir = Files.createTempDirectory("config-fuzz");
    }

    @AfterContainer
    static void report() throws IOException {
        System.out.println(CASES.summary());
        Files.deleteIfExists(dir.resolve("config.json"));
        Files.delete(dir);
    }

    @Property
    void damagedConfigsAreRefusedOrDescribeABuildableModel(@ForAll long seed) throws IOException {
        SplittableRandom rng = new SplittableRandom(seed);
        byte[] text = Mutations.mutate(SEEDS.get(rng.nextInt(SEEDS.size())), rng);
        Path file = dir.resolve("config.json");
        Files.write(file, text);
        HfLlamaConfig c;
        try {
            c = HfLlamaConfig.read(file);
        } catch (IllegalArgumentException e) {
            assertTrue(e.getMessage().startsWith(file.toString()), "names the file: " + e.getMessage());
            CASES.refused(e);
            return;
        }
        LlamaConfig m = c.toModelConfig();
        assertTrue(m.vocabSize() > 0 && m.hiddenSize() > 0 && m.intermediateSize() > 0 && m.layers() > 0);
        assertTrue(m.heads() > 0 && m.kvHeads() > 0 && m.maxPositions() > 0);
        assertTrue(m.headDim() > 0); // head_dim may be given: hidden need not be heads x head_dim
        assertEquals(0, m.heads() % m.kvHeads());
        assertEquals(0, m.headDim() % 2);
        assertTrue(m.rmsNormEps() > 0 && Double.isFinite(m.rmsNormEps()));
        assertTrue(m.ropeTheta() > 0 && Double.isFinite(m.ropeTheta()));
        assertEquals(c, HfLlamaConfig.fromJson(c.toJson()), "round trip");
        CASES.accepted();
    }
}
