package io.sbora4j.peft;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonIgnore;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.MapperFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.json.JsonMapper;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;

/**
 * How to adapt a model: plain data that round-trips to JSON ({@link #toJson()}, {@link #fromJson(String)}).
 *
 * @param method        the adapter kind
 * @param r             the rank (for SBoRA: the number of standard-basis vectors)
 * @param alpha         the scaling numerator: ΔW = (alpha / r)·B·A
 * @param dropout       dropout probability on the adapter's input while training, in [0, 1)
 * @param init          how LoRA's A is initialised (SBoRA has no random factor)
 * @param seed          seeds index selection and initialisation, together with each layer's name
 * @param targetModules layer names to adapt (the last component of a module path, e.g. {@code q_proj})
 * @param indices       explicit SBoRA indices per layer path, overriding the seeded draw for those layers
 */
@JsonInclude(JsonInclude.Include.NON_EMPTY)
public record AdapterConfig(
        @JsonProperty(value = "method", required = true) AdapterMethod method,
        @JsonProperty(value = "r", required = true) int r,
        @JsonProperty(value = "alpha", required = true) double alpha,
        @JsonProperty("dropout") double dropout,
        @JsonProperty("init") Init init,
        @JsonProperty("seed") long seed,
        @JsonProperty("target_modules") List<String> targetModules,
        @JsonProperty("indices") Map<String, int[]> indices) {

    /** The projections of a LLaMA block: every linear layer of attention and MLP. */
    public static final List<String> LLAMA_TARGETS =
            List.of("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj");

    /**
     * Strict: an unknown or duplicated key, trailing text, null for a number, a float where an integer belongs or a
     * string where a number belongs is an error, never a silent truncation or coercion (Jackson would read a null
     * {@code alpha} as 0).
     */
    private static final ObjectMapper JSON = JsonMapper.builder()
            .enable(SerializationFeature.INDENT_OUTPUT)
            .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .disable(DeserializationFeature.ACCEPT_FLOAT_AS_INT)
            .disable(MapperFeature.ALLOW_COERCION_OF_SCALARS)
            .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
            .build();

    /** Initialisation of LoRA's random factor A (B always starts at zero, so ΔW starts at zero). */
    public enum Init {
        /** U(-1/√in, 1/√in): {@code kaiming_uniform_(A, a=√5)}, PEFT's default. */
        @JsonProperty("kaiming-uniform")
        KAIMING_UNIFORM,
        /** N(0, 1/r): PEFT's {@code init_lora_weights="gaussian"}. */
        @JsonProperty("gaussian")
        GAUSSIAN
    }

    @JsonCreator
    public AdapterConfig {
        Objects.requireNonNull(method, "method");
        if (r < 1) {
            throw new IllegalArgumentException("adapter rank r must be >= 1, got " + r);
        }
        if (!Double.isFinite(alpha)) {
            throw new IllegalArgumentException("adapter alpha must be finite, got " + alpha);
        }
        if (!(dropout >= 0 && dropout < 1)) {
            throw new IllegalArgumentException("adapter dropout must be in [0, 1), got " + dropout);
        }
        init = init == null ? Init.KAIMING_UNIFORM : init;
        targetModules = targetModules == null || targetModules.isEmpty() ? LLAMA_TARGETS : List.copyOf(targetModules);
        Map<String, int[]> copy = new LinkedHashMap<>();
        if (indices != null) {
            indices.forEach((k, v) ->
                    copy.put(k, Objects.requireNonNull(v, "indices of " + k).clone()));
        }
        indices = Map.copyOf(copy);
    }

    /** A config with the defaults: no dropout, Kaiming-uniform init, seed 0, all LLaMA projections. */
    public static AdapterConfig of(AdapterMethod method, int r, double alpha) {
        return new AdapterConfig(method, r, alpha, 0, Init.KAIMING_UNIFORM, 0, LLAMA_TARGETS, Map.of());
    }

    /** {@code alpha / r}, the factor s of ΔW = s·B·A. */
    @JsonIgnore
    public float scaling() {
        return (float) (alpha / r);
    }

    public AdapterConfig withSeed(long newSeed) {
        return new AdapterConfig(method, r, alpha, dropout, init, newSeed, targetModules, indices);
    }

    public AdapterConfig withDropout(double p) {
        return new AdapterConfig(method, r, alpha, p, init, seed, targetModules, indices);
    }

    public AdapterConfig withTargets(List<String> targets) {
        return new AdapterConfig(method, r, alpha, dropout, init, seed, targets, indices);
    }

    public AdapterConfig withInit(Init newInit) {
        return new AdapterConfig(method, r, alpha, dropout, newInit, seed, targetModules, indices);
    }

    /** This config with explicit indices for the layer at {@code path}. */
    public AdapterConfig withIndices(String path, int... idx) {
        Map<String, int[]> m = new LinkedHashMap<>(indices);
        m.put(path, idx.clone());
        return new AdapterConfig(method, r, alpha, dropout, init, seed, targetModules, m);
    }

    /** Whether the layer at {@code path} is targeted: its last path component is one of {@link #targetModules}. */
    public boolean targets(String path) {
        String last = path.substring(path.lastIndexOf('.') + 1);
        return targetModules.contains(last) || targetModules.contains(path);
    }

    public String toJson() {
        try {
            return JSON.writeValueAsString(this);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("adapter config cannot be written as JSON", e);
        }
    }

    /** Parses a config; a malformed or invalid one is an IllegalArgumentException saying what is wrong. */
    public static AdapterConfig fromJson(String json) {
        try {
            JsonNode tree = JSON.readTree(json);
            if (tree != null && tree.isObject()) {
                // Jackson would pass an explicit null for a number as 0 (a null alpha would silently scale by 0)
                for (var field : tree.properties()) {
                    if (field.getValue().isNull()) {
                        throw new IllegalArgumentException(
                                "invalid adapter config: \"" + escapeControls(field.getKey()) + "\" is null");
                    }
                }
            }
            return JSON.readValue(json, AdapterConfig.class);
        } catch (JsonProcessingException e) {
            Throwable root = e;
            while (root.getCause() != null) {
                root = root.getCause();
            }
            String msg = root instanceof IllegalArgumentException ? root.getMessage() : e.getOriginalMessage();
            throw new IllegalArgumentException("invalid adapter config: " + escapeControls(msg), e);
        }
    }

    /** A message on one line, whatever names the file held: control characters escaped ({@code \\n}, ...). */
    private static String escapeControls(String s) {
        if (s == null) {
            return "null";
        }
        StringBuilder sb = new StringBuilder(s.length());
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c < 0x20 || c == 0x7f || c == 0x85 || c == 0x2028 || c == 0x2029) {
                sb.append(c == '\n' ? "\\n" : String.format(Locale.ROOT, "\\u%04x", (int) c));
            } else {
                sb.append(c);
            }
        }
        return sb.toString();
    }

    // Records compare arrays by reference; configs compare by content.
    @Override
    public boolean equals(Object o) {
        if (!(o instanceof AdapterConfig c)) {
            return false;
        }
        if (!(method == c.method
                && r == c.r
                && Double.compare(alpha, c.alpha) == 0
                && Double.compare(dropout, c.dropout) == 0
                && init == c.init
                && seed == c.seed
                && targetModules.equals(c.targetModules)
                && indices.keySet().equals(c.indices.keySet()))) {
            return false;
        }
        for (var e : indices.entrySet()) {
            if (!Arrays.equals(e.getValue(), c.indices.get(e.getKey()))) {
                return false;
            }
        }
        return true;
    }

    @Override
    public int hashCode() {
        return Objects.hash(method, r, alpha, dropout, init, seed, targetModules, indices.keySet());
    }
}
