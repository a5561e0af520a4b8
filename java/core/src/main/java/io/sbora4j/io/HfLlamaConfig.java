package io.sbora4j.io;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sbora4j.nn.LlamaConfig;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

/**
 * The architecture of a LLaMA model as Hugging Face's {@code config.json} describes it.
 *
 * <p>Unknown keys are ignored, but keys that would change the computation in ways this library does not implement
 * are refused rather than ignored: a {@code model_type} other than llama, an activation other than silu,
 * {@code rope_scaling}, attention or MLP biases, or a {@code head_dim} other than hidden / heads.
 *
 * @param hiddenSize            width of the residual stream
 * @param intermediateSize      width of the MLP
 * @param numAttentionHeads     query heads
 * @param numKeyValueHeads      key/value heads (fewer than query heads: grouped-query attention)
 * @param numHiddenLayers       transformer blocks
 * @param rmsNormEps            epsilon of RMSNorm
 * @param ropeTheta             base of the rotary frequencies
 * @param vocabSize             tokens in the vocabulary
 * @param tieWordEmbeddings     whether the output head reuses the embedding matrix
 * @param maxPositionEmbeddings longest sequence the model was trained for
 */
public record HfLlamaConfig(
        int hiddenSize,
        int intermediateSize,
        int numAttentionHeads,
        int numKeyValueHeads,
        int numHiddenLayers,
        double rmsNormEps,
        double ropeTheta,
        int vocabSize,
        boolean tieWordEmbeddings,
        int maxPositionEmbeddings) {

    /** Hugging Face's default {@code rms_norm_eps}. */
    public static final double DEFAULT_RMS_NORM_EPS = 1e-6;
    /** Hugging Face's default {@code rope_theta}. */
    public static final double DEFAULT_ROPE_THETA = 10000;
    /** The most bytes a {@code config.json} may hold (a real one holds about a kilobyte). */
    static final long MAX_BYTES = 16L << 20;

    /** Hugging Face's default {@code max_position_embeddings}. */
    public static final int DEFAULT_MAX_POSITION_EMBEDDINGS = 2048;

    /** Checks every size (through {@link LlamaConfig}); the messages name the offending key. */
    public HfLlamaConfig {
        new LlamaConfig(
                vocabSize,
                hiddenSize,
                intermediateSize,
                numHiddenLayers,
                numAttentionHeads,
                numKeyValueHeads,
                rmsNormEps,
                ropeTheta,
                maxPositionEmbeddings,
                tieWordEmbeddings);
    }

    /** The model's shape as {@code nn} uses it. */
    public LlamaConfig toModelConfig() {
        return new LlamaConfig(
                vocabSize,
                hiddenSize,
                intermediateSize,
                numHiddenLayers,
                numAttentionHeads,
                numKeyValueHeads,
                rmsNormEps,
                ropeTheta,
                maxPositionEmbeddings,
                tieWordEmbeddings);
    }

    /** The config.json view of a model's shape. */
    public static HfLlamaConfig from(LlamaConfig c) {
        return new HfLlamaConfig(
                c.hiddenSize(),
                c.intermediateSize(),
                c.heads(),
                c.kvHeads(),
                c.layers(),
                c.rmsNormEps(),
                c.ropeTheta(),
                c.vocabSize(),
                c.tieWordEmbeddings(),
                c.maxPositions());
    }

    /** A config with the optional keys at Hugging Face's defaults and one key/value head per query head. */
    public static HfLlamaConfig of(
            int hiddenSize, int intermediateSize, int numAttentionHeads, int numHiddenLayers, int vocabSize) {
        return new HfLlamaConfig(
                hiddenSize,
                intermediateSize,
                numAttentionHeads,
                numAttentionHeads,
                numHiddenLayers,
                DEFAULT_RMS_NORM_EPS,
                DEFAULT_ROPE_THETA,
                vocabSize,
                false,
                DEFAULT_MAX_POSITION_EMBEDDINGS);
    }

    /** Width of one attention head: hidden_size / num_attention_heads. */
    public int headDim() {
        return hiddenSize / numAttentionHeads;
    }

    /**
     * Parses a {@code config.json} text.
     *
     * @throws IllegalArgumentException if it is not JSON, lacks a required key, or describes an unsupported model
     */
    public static HfLlamaConfig fromJson(String json) {
        JsonNode root;
        try {
            root = StrictJson.parse(json);
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException("config.json is not valid JSON: " + StrictJson.describe(e), e);
        }
        if (root == null || !root.isObject()) {
            throw new IllegalArgumentException("config.json is not a JSON object");
        }
        requireValue(root, "model_type", "llama");
        requireValue(root, "hidden_act", "silu");
        requireAbsentOrFalse(root, "attention_bias");
        requireAbsentOrFalse(root, "mlp_bias");
        if (present(root, "rope_scaling")) {
            throw new IllegalArgumentException("rope_scaling " + root.get("rope_scaling") + " is not supported");
        }
        int heads = requiredInt(root, "num_attention_heads");
        int hidden = requiredInt(root, "hidden_size");
        HfLlamaConfig c = new HfLlamaConfig(
                hidden,
                requiredInt(root, "intermediate_size"),
                heads,
                optionalInt(root, "num_key_value_heads", heads),
                requiredInt(root, "num_hidden_layers"),
                optionalDouble(root, "rms_norm_eps", DEFAULT_RMS_NORM_EPS),
                optionalDouble(root, "rope_theta", DEFAULT_ROPE_THETA),
                requiredInt(root, "vocab_size"),
                optionalBoolean(root, "tie_word_embeddings", false),
                optionalInt(root, "max_position_embeddings", DEFAULT_MAX_POSITION_EMBEDDINGS));
        if (present(root, "head_dim") && optionalInt(root, "head_dim", 0) != c.headDim()) {
            throw new IllegalArgumentException("head_dim " + root.get("head_dim")
                    + " differs from hidden_size / num_attention_heads = " + c.headDim() + ", which is not supported");
        }
        return c;
    }

    /** An HF-compatible {@code config.json} (LlamaForCausalLM, float32), indented. */
    public String toJson() {
        ObjectNode o = StrictJson.PRETTY.createObjectNode();
        o.putArray("architectures").add("LlamaForCausalLM");
        o.put("model_type", "llama");
        o.put("hidden_size", hiddenSize);
        o.put("intermediate_size", intermediateSize);
        o.put("num_attention_heads", numAttentionHeads);
        o.put("num_key_value_heads", numKeyValueHeads);
        o.put("num_hidden_layers", numHiddenLayers);
        o.put("head_dim", headDim());
        o.put("hidden_act", "silu");
        o.put("rms_norm_eps", rmsNormEps);
        o.put("rope_theta", ropeTheta);
        o.putNull("rope_scaling");
        o.put("attention_bias", false);
        o.put("mlp_bias", false);
        o.put("vocab_size", vocabSize);
        o.put("tie_word_embeddings", tieWordEmbeddings);
        o.put("max_position_embeddings", maxPositionEmbeddings);
        o.put("torch_dtype", "float32");
        try {
            return StrictJson.PRETTY.writeValueAsString(o) + "\n";
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e); // a tree of plain values always serializes
        }
    }

    /**
     * Reads {@code file}.
     *
     * @throws IllegalArgumentException naming the file, if its content is invalid (see {@link #fromJson}), not UTF-8,
     *                                  or larger than 16 MiB
     */
    public static HfLlamaConfig read(Path file) throws IOException {
        String json = TextFiles.readUtf8(file, MAX_BYTES);
        try {
            return fromJson(json);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(file + ": " + e.getMessage(), e);
        }
    }

    /** Writes {@link #toJson()} to {@code file}, replacing it atomically. */
    public void write(Path file) throws IOException {
        byte[] bytes = toJson().getBytes(StandardCharsets.UTF_8);
        AtomicFiles.write(file, ch -> AtomicFiles.writeFully(ch, ByteBuffer.wrap(bytes)));
    }

    // ---------------------------------------------------------------- JSON helpers

    private static boolean present(JsonNode root, String key) {
        JsonNode v = root.get(key);
        return v != null && !v.isNull();
    }

    private static int requiredInt(JsonNode root, String key) {
        if (!present(root, key)) {
            throw new IllegalArgumentException("config.json lacks \"" + key + "\"");
        }
        return optionalInt(root, key, 0);
    }

    private static int optionalInt(JsonNode root, String key, int fallback) {
        if (!present(root, key)) {
            return fallback;
        }
        JsonNode v = root.get(key);
        if (!v.isIntegralNumber() || !v.canConvertToInt()) {
            throw new IllegalArgumentException(key + " must be an integer, got " + v);
        }
        return v.intValue();
    }

    private static double optionalDouble(JsonNode root, String key, double fallback) {
        if (!present(root, key)) {
            return fallback;
        }
        JsonNode v = root.get(key);
        if (!v.isNumber()) {
            throw new IllegalArgumentException(key + " must be a number, got " + v);
        }
        return v.doubleValue();
    }

    private static boolean optionalBoolean(JsonNode root, String key, boolean fallback) {
        if (!present(root, key)) {
            return fallback;
        }
        JsonNode v = root.get(key);
        if (!v.isBoolean()) {
            throw new IllegalArgumentException(key + " must be true or false, got " + v);
        }
        return v.booleanValue();
    }

    private static void requireValue(JsonNode root, String key, String expected) {
        if (present(root, key) && !expected.equals(root.get(key).asText(null))) {
            throw new IllegalArgumentException(
                    key + " " + root.get(key) + " is not supported (expected \"" + expected + "\")");
        }
    }

    private static void requireAbsentOrFalse(JsonNode root, String key) {
        if (present(root, key) && !(root.get(key).isBoolean() && !root.get(key).booleanValue())) {
            throw new IllegalArgumentException(key + " " + root.get(key) + " is not supported (only false)");
        }
    }
}
