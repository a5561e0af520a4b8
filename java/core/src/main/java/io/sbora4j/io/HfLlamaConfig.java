package io.sbora4j.io;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sbora4j.nn.LlamaConfig;
import io.sbora4j.ops.RopeScaling;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;

/**
 * The architecture of a LLaMA-family model as Hugging Face's {@code config.json} describes it: {@code model_type}
 * llama (LLaMA 1 to 3.3), mistral or qwen2.
 *
 * <p>Unknown keys are ignored, but keys that would change the computation in ways this library does not implement
 * are refused with one line naming the key rather than ignored: another {@code model_type}, an activation other
 * than silu, a {@code rope_scaling} type other than default, linear, dynamic and llama3, attention or MLP biases
 * beyond Qwen2's q/k/v ones, a partial rotary factor, attention dropout, and Qwen2's sliding window. Mistral's
 * {@code sliding_window} is kept: {@link io.sbora4j.nn.LlamaModel} runs sequences within it (where its mask is the
 * causal one) and refuses longer ones.
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
 * @param headDim               width of one attention head (hidden / heads unless {@code head_dim} says otherwise)
 * @param ropeScaling           {@code rope_scaling}, {@link RopeScaling#NONE} when null
 * @param modelType             llama, mistral or qwen2 (qwen2: biases on q, k and v)
 * @param slidingWindow         mistral's {@code sliding_window}, 0 when null or for another type
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
        int maxPositionEmbeddings,
        int headDim,
        RopeScaling ropeScaling,
        String modelType,
        int slidingWindow) {

    /** Hugging Face's default {@code rms_norm_eps}. */
    public static final double DEFAULT_RMS_NORM_EPS = 1e-6;
    /** Hugging Face's default {@code rope_theta}. */
    public static final double DEFAULT_ROPE_THETA = 10000;
    /** The most bytes a {@code config.json} may hold (a real one holds about a kilobyte). */
    static final long MAX_BYTES = 16L << 20;

    /** Hugging Face's default {@code max_position_embeddings}. */
    public static final int DEFAULT_MAX_POSITION_EMBEDDINGS = 2048;

    /** The {@code model_type}s this library runs. */
    public static final List<String> MODEL_TYPES = List.of("llama", "mistral", "qwen2");

    /** Checks every size (through {@link LlamaConfig}); the messages name the offending key. */
    public HfLlamaConfig {
        if (modelType == null || !MODEL_TYPES.contains(modelType)) {
            throw new IllegalArgumentException("model_type " + modelType + " is not supported (expected one of "
                    + String.join(", ", MODEL_TYPES) + ")");
        }
        if (slidingWindow != 0 && !modelType.equals("mistral")) {
            throw new IllegalArgumentException("sliding_window " + slidingWindow + " is only supported for mistral");
        }
        toModelConfig(
                hiddenSize,
                intermediateSize,
                numAttentionHeads,
                numKeyValueHeads,
                numHiddenLayers,
                rmsNormEps,
                ropeTheta,
                vocabSize,
                tieWordEmbeddings,
                maxPositionEmbeddings,
                headDim,
                ropeScaling,
                modelType,
                slidingWindow);
    }

    /** A LLaMA config with head_dim hidden / heads and no rope scaling. */
    public HfLlamaConfig(
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
        this(
                hiddenSize,
                intermediateSize,
                numAttentionHeads,
                numKeyValueHeads,
                numHiddenLayers,
                rmsNormEps,
                ropeTheta,
                vocabSize,
                tieWordEmbeddings,
                maxPositionEmbeddings,
                LlamaConfig.derivedHeadDim(hiddenSize, numAttentionHeads),
                RopeScaling.NONE,
                "llama",
                0);
    }

    /** The model's shape as {@code nn} uses it. */
    public LlamaConfig toModelConfig() {
        return toModelConfig(
                hiddenSize,
                intermediateSize,
                numAttentionHeads,
                numKeyValueHeads,
                numHiddenLayers,
                rmsNormEps,
                ropeTheta,
                vocabSize,
                tieWordEmbeddings,
                maxPositionEmbeddings,
                headDim,
                ropeScaling,
                modelType,
                slidingWindow);
    }

    private static LlamaConfig toModelConfig(
            int hiddenSize,
            int intermediateSize,
            int numAttentionHeads,
            int numKeyValueHeads,
            int numHiddenLayers,
            double rmsNormEps,
            double ropeTheta,
            int vocabSize,
            boolean tieWordEmbeddings,
            int maxPositionEmbeddings,
            int headDim,
            RopeScaling ropeScaling,
            String modelType,
            int slidingWindow) {
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
                tieWordEmbeddings,
                headDim,
                ropeScaling,
                modelType.equals("qwen2"),
                slidingWindow);
    }

    /**
     * The config.json view of a model's shape: qwen2 where q, k and v have biases, mistral where attention slides,
     * llama otherwise (a Mistral model without a window is a LLaMA one).
     */
    public static HfLlamaConfig from(LlamaConfig c) {
        String type = c.qkvBias() ? "qwen2" : c.slidingWindow() > 0 ? "mistral" : "llama";
        if (c.qkvBias() && c.slidingWindow() > 0) {
            throw new IllegalArgumentException("no model_type has both q/k/v biases and a sliding window");
        }
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
                c.maxPositions(),
                c.headDim(),
                c.ropeScaling(),
                type,
                c.slidingWindow());
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
        String type = present(root, "model_type") ? root.get("model_type").asText(null) : "llama";
        if (type == null || !MODEL_TYPES.contains(type)) {
            throw new IllegalArgumentException("model_type " + root.get("model_type")
                    + " is not supported (expected one of " + String.join(", ", MODEL_TYPES) + ")");
        }
        requireValue(root, "hidden_act", "silu");
        // LLaMA's attention_bias also biases o_proj; Qwen2's q/k/v biases are part of its type, not this key
        requireAbsentOrFalse(root, "attention_bias");
        requireAbsentOrFalse(root, "mlp_bias");
        if (present(root, "partial_rotary_factor") && optionalDouble(root, "partial_rotary_factor", 1) != 1) {
            throw new IllegalArgumentException(
                    "partial_rotary_factor " + root.get("partial_rotary_factor") + " is not supported (only 1)");
        }
        // dropout would make training differ from HF's; inference is the same either way
        if (present(root, "attention_dropout") && optionalDouble(root, "attention_dropout", 0) != 0) {
            throw new IllegalArgumentException(
                    "attention_dropout " + root.get("attention_dropout") + " is not supported (only 0)");
        }
        int slidingWindow = slidingWindow(root, type);
        int heads = requiredInt(root, "num_attention_heads");
        int hidden = requiredInt(root, "hidden_size");
        int maxPositions = optionalInt(root, "max_position_embeddings", DEFAULT_MAX_POSITION_EMBEDDINGS);
        int headDim =
                present(root, "head_dim") ? positiveInt(root, "head_dim") : LlamaConfig.derivedHeadDim(hidden, heads);
        return new HfLlamaConfig(
                hidden,
                requiredInt(root, "intermediate_size"),
                heads,
                optionalInt(root, "num_key_value_heads", heads),
                requiredInt(root, "num_hidden_layers"),
                optionalDouble(root, "rms_norm_eps", DEFAULT_RMS_NORM_EPS),
                optionalDouble(root, "rope_theta", DEFAULT_ROPE_THETA),
                requiredInt(root, "vocab_size"),
                optionalBoolean(root, "tie_word_embeddings", false),
                maxPositions,
                headDim,
                ropeScaling(root.get("rope_scaling"), maxPositions),
                type,
                slidingWindow);
    }

    /**
     * Mistral's window (0 when null); Qwen2's only when {@code use_sliding_window} is false (or absent, HF's
     * default) and no layer is a sliding one, since then HF ignores its {@code sliding_window}; LLaMA has none.
     */
    private static int slidingWindow(JsonNode root, String type) {
        switch (type) {
            case "mistral" -> {
                return present(root, "sliding_window") ? positiveInt(root, "sliding_window") : 0;
            }
            case "qwen2" -> {
                if (optionalBoolean(root, "use_sliding_window", false)) {
                    throw new IllegalArgumentException(
                            "use_sliding_window true is not supported for qwen2 (only false)");
                }
                JsonNode layers = root.get("layer_types");
                if (layers != null && layers.isArray()) {
                    for (JsonNode l : layers) {
                        if (!"full_attention".equals(l.asText(null))) {
                            throw new IllegalArgumentException(
                                    "layer_types entry " + l + " is not supported (only \"full_attention\")");
                        }
                    }
                }
                return 0;
            }
            default -> {
                return 0;
            }
        }
    }

    /**
     * {@code rope_scaling}: null, or an object whose {@code rope_type} (or, as older configs say, {@code type}) is
     * default, linear, dynamic or llama3.
     */
    static RopeScaling ropeScaling(JsonNode node, int maxPositions) {
        if (node == null || node.isNull()) {
            return RopeScaling.NONE;
        }
        if (!node.isObject()) {
            throw new IllegalArgumentException("rope_scaling must be an object or null, got " + node);
        }
        JsonNode t = present(node, "rope_type") ? node.get("rope_type") : node.get("type");
        if (t == null || t.isNull() || !t.isTextual()) {
            throw new IllegalArgumentException("rope_scaling lacks a textual \"rope_type\" (or \"type\"): " + node);
        }
        String type = t.textValue();
        try {
            return switch (type) {
                case "default" -> RopeScaling.NONE;
                case "linear" -> RopeScaling.linear(requiredDouble(node, "factor"));
                case "dynamic" -> {
                    // HF's dynamic NTK measures lengths against max_position_embeddings; a different original
                    // length would be read differently by different HF versions
                    if (present(node, "original_max_position_embeddings")
                            && positiveInt(node, "original_max_position_embeddings") != maxPositions) {
                        throw new IllegalArgumentException("original_max_position_embeddings "
                                + node.get("original_max_position_embeddings")
                                + " differs from max_position_embeddings " + maxPositions
                                + ", which is not supported for dynamic scaling");
                    }
                    yield RopeScaling.dynamic(requiredDouble(node, "factor"), maxPositions);
                }
                case "llama3" ->
                    RopeScaling.llama3(
                            requiredDouble(node, "factor"),
                            requiredDouble(node, "low_freq_factor"),
                            requiredDouble(node, "high_freq_factor"),
                            positiveInt(node, "original_max_position_embeddings"));
                default ->
                    throw new IllegalArgumentException("rope_scaling type \"" + type
                            + "\" is not supported (only default, linear, dynamic and llama3)");
            };
        } catch (IllegalArgumentException e) {
            if (e.getMessage().startsWith("rope_scaling")) {
                throw e;
            }
            throw new IllegalArgumentException("rope_scaling " + e.getMessage().replaceFirst("^config\\.json ", ""), e);
        }
    }

    /** An HF-compatible {@code config.json} (LlamaForCausalLM, MistralForCausalLM or Qwen2ForCausalLM), indented. */
    public String toJson() {
        ObjectNode o = StrictJson.PRETTY.createObjectNode();
        o.putArray("architectures")
                .add(
                        switch (modelType) {
                            case "mistral" -> "MistralForCausalLM";
                            case "qwen2" -> "Qwen2ForCausalLM";
                            default -> "LlamaForCausalLM";
                        });
        o.put("model_type", modelType);
        o.put("hidden_size", hiddenSize);
        o.put("intermediate_size", intermediateSize);
        o.put("num_attention_heads", numAttentionHeads);
        o.put("num_key_value_heads", numKeyValueHeads);
        o.put("num_hidden_layers", numHiddenLayers);
        o.put("head_dim", headDim);
        o.put("hidden_act", "silu");
        o.put("rms_norm_eps", rmsNormEps);
        o.put("rope_theta", ropeTheta);
        if (ropeScaling.type() == RopeScaling.Type.DEFAULT) {
            o.putNull("rope_scaling");
        } else {
            ObjectNode r = o.putObject("rope_scaling");
            r.put("rope_type", ropeScaling.hfName());
            r.put("factor", ropeScaling.factor());
            if (ropeScaling.type() == RopeScaling.Type.LLAMA3) {
                r.put("low_freq_factor", ropeScaling.lowFreqFactor());
                r.put("high_freq_factor", ropeScaling.highFreqFactor());
                r.put("original_max_position_embeddings", ropeScaling.originalMaxPositions());
            }
        }
        switch (modelType) {
            case "llama" -> {
                o.put("attention_bias", false);
                o.put("mlp_bias", false);
            }
            case "mistral" -> {
                if (slidingWindow > 0) {
                    o.put("sliding_window", slidingWindow);
                } else {
                    o.putNull("sliding_window");
                }
            }
            default -> o.put("use_sliding_window", false);
        }
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

    private static int positiveInt(JsonNode root, String key) {
        int v = requiredInt(root, key);
        if (v < 1) {
            throw new IllegalArgumentException(key + " must be positive, got " + v);
        }
        return v;
    }

    private static double requiredDouble(JsonNode root, String key) {
        if (!present(root, key)) {
            throw new IllegalArgumentException("lacks \"" + key + "\"");
        }
        return optionalDouble(root, key, 0);
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
