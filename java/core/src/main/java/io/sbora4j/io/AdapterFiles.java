package io.sbora4j.io;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sbora4j.nn.LinearLayer;
import io.sbora4j.nn.LlamaModel;
import io.sbora4j.peft.AdaptedLinear;
import io.sbora4j.peft.AdapterConfig;
import io.sbora4j.peft.AdapterMethod;
import io.sbora4j.peft.PeftModel;
import io.sbora4j.tensor.DType;
import io.sbora4j.tensor.Device;
import io.sbora4j.tensor.Tensor;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Adapter directories: {@code adapter_config.json} + {@code adapter_model.safetensors}.
 *
 * <p>The native form keeps what each method trains and SBoRA's index lists as i32 tensors, under the layer's path:
 * {@code <path>.lora_A}, {@code <path>.lora_B}, {@code <path>.idx}, {@code <path>.magnitude}. The PEFT form
 * ({@link #exportPeft}) is a standard LoRA adapter any LoRA runtime loads: SBoRA-FA's A becomes one-hot rows and
 * SBoRA-FB's B one-hot columns.
 */
public final class AdapterFiles {

    public static final String CONFIG = "adapter_config.json";
    public static final String WEIGHTS = "adapter_model.safetensors";
    private static final String SHAPES_KEY = "sbora4j.layer_shapes";

    private AdapterFiles() {}

    /** Writes the adapters of {@code model} into {@code dir} (created if needed), each file atomically. */
    public static void save(PeftModel model, Path dir) throws IOException {
        Files.createDirectories(dir);
        Map<String, Tensor> tensors = new LinkedHashMap<>();
        ObjectNode shapes = StrictJson.PRETTY.createObjectNode();
        for (var e : model.adapted().entrySet()) {
            e.getValue().adapter().tensors().forEach((k, t) -> tensors.put(e.getKey() + "." + k, t));
            shapes.putArray(e.getKey()).add(e.getValue().outFeatures()).add(e.getValue().inFeatures());
        }
        Map<String, String> meta = new LinkedHashMap<>();
        meta.put("format", "pt");
        meta.put("sbora4j.method", model.config().method().id());
        meta.put(SHAPES_KEY, shapes.toString());
        SafetensorsWriter.write(dir.resolve(WEIGHTS), tensors, meta);
        writeText(dir.resolve(CONFIG), model.config().toJson());
    }

    /**
     * Loads the adapter in {@code dir} onto {@code model} (which is frozen and injected): every adapted layer must
     * exist in the model with the shapes the file records, and every tensor the method needs must be present.
     */
    public static PeftModel load(Path dir, LlamaModel model, Arena arena) throws IOException {
        AdapterConfig cfg = readConfig(dir);
        try (Arena fileArena = Arena.ofConfined()) {
            SafetensorsFile file = SafetensorsFile.open(dir.resolve(WEIGHTS), fileArena);
            Map<String, int[]> shapes = layerShapes(file);
            Map<String, LinearLayer> projections = model.projections();
            AdapterConfig withIdx = cfg;
            for (var e : shapes.entrySet()) {
                LinearLayer layer = projections.get(e.getKey());
                if (layer == null) {
                    throw new IllegalArgumentException(dir.resolve(WEIGHTS) + ": adapted layer " + e.getKey()
                            + " does not exist in the model");
                }
                if (layer.outFeatures() != e.getValue()[0] || layer.inFeatures() != e.getValue()[1]) {
                    throw new IllegalArgumentException(dir.resolve(WEIGHTS) + ": layer " + e.getKey() + " is "
                            + layer.outFeatures() + "x" + layer.inFeatures() + " in the model but "
                            + e.getValue()[0] + "x" + e.getValue()[1] + " in the adapter");
                }
                for (String t : requiredTensors(cfg.method())) {
                    if (!file.contains(e.getKey() + "." + t)) {
                        throw new IllegalArgumentException(dir.resolve(WEIGHTS) + " lacks tensor " + e.getKey() + "." + t);
                    }
                }
                if (file.contains(e.getKey() + ".idx")) {
                    withIdx = withIdx.withIndices(e.getKey(),
                            file.tensor(e.getKey() + ".idx", fileArena, Device.CPU).toIntArray());
                }
            }
            PeftModel peft = PeftModel.inject(model, withIdx, arena);
            if (!peft.adapted().keySet().equals(shapes.keySet())) {
                throw new IllegalArgumentException(dir + ": the config targets " + peft.adapted().keySet().size()
                        + " layers of this model but the weights hold " + shapes.size());
            }
            for (var e : peft.adapted().entrySet()) {
                for (var t : e.getValue().adapter().tensors().entrySet()) {
                    String name = e.getKey() + "." + t.getKey();
                    if (!file.contains(name)) {
                        throw new IllegalArgumentException(dir.resolve(WEIGHTS) + " lacks tensor " + name);
                    }
                    Tensor stored = file.tensor(name, fileArena, Device.CPU);
                    if (!Arrays.equals(stored.shape().dims(), t.getValue().shape().dims())
                            || stored.dtype() != t.getValue().dtype()) {
                        throw new IllegalArgumentException(dir.resolve(WEIGHTS) + ": tensor " + name + " is "
                                + stored.describe() + ", the model needs " + t.getValue().describe());
                    }
                    if (t.getValue().dtype() == DType.F32) {
                        t.getValue().copyFrom(stored);
                    }
                }
            }
            return peft;
        }
    }

    /** The tensors each adapted layer of {@code method} stores. */
    static java.util.List<String> requiredTensors(AdapterMethod method) {
        return switch (method) {
            case SBORA_FA -> java.util.List.of("lora_B", "idx");
            case SBORA_FB -> java.util.List.of("lora_A", "idx");
            case LORA, LORA_FA -> java.util.List.of("lora_A", "lora_B");
            case DORA -> java.util.List.of("lora_A", "lora_B", "magnitude");
        };
    }

    /** The config of the adapter in {@code dir}. */
    public static AdapterConfig readConfig(Path dir) throws IOException {
        Path p = dir.resolve(CONFIG);
        if (!Files.isRegularFile(p)) {
            throw new IOException(dir + " is not an adapter directory: " + CONFIG + " is missing");
        }
        try {
            return AdapterConfig.fromJson(Files.readString(p, StandardCharsets.UTF_8));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(p + ": " + e.getMessage(), e);
        }
    }

    /**
     * Writes the native adapter in {@code from} as a standard PEFT LoRA adapter in {@code to}: keys
     * {@code base_model.model.<path>.lora_A.weight} (r x in) and {@code .lora_B.weight} (out x r), DoRA's magnitude
     * as {@code .lora_magnitude_vector}, and a LoraConfig with {@code peft_type: LORA}.
     */
    public static void exportPeft(Path from, Path to) throws IOException {
        AdapterConfig cfg = readConfig(from);
        Files.createDirectories(to);
        try (Arena arena = Arena.ofConfined()) {
            SafetensorsFile file = SafetensorsFile.open(from.resolve(WEIGHTS), arena);
            Map<String, Tensor> out = new LinkedHashMap<>();
            for (var e : layerShapes(file).entrySet()) {
                String path = e.getKey(), key = "base_model.model." + path;
                int rows = e.getValue()[0], cols = e.getValue()[1], r = cfg.r();
                Tensor a, b;
                switch (cfg.method()) {
                    case SBORA_FA -> {
                        int[] idx = file.tensor(path + ".idx", arena, Device.CPU).toIntArray();
                        float[] oneHot = new float[r * cols];
                        for (int j = 0; j < r; j++) {
                            oneHot[j * cols + idx[j]] = 1f;   // row j of A is e_idx[j]
                        }
                        a = Tensor.of(arena, Device.CPU, oneHot, r, cols);
                        b = file.tensor(path + ".lora_B", arena, Device.CPU);
                    }
                    case SBORA_FB -> {
                        int[] idx = file.tensor(path + ".idx", arena, Device.CPU).toIntArray();
                        float[] oneHot = new float[rows * r];
                        for (int j = 0; j < r; j++) {
                            oneHot[idx[j] * r + j] = 1f;      // column j of B is e_idx[j]
                        }
                        a = file.tensor(path + ".lora_A", arena, Device.CPU);
                        b = Tensor.of(arena, Device.CPU, oneHot, rows, r);
                    }
                    default -> {
                        a = file.tensor(path + ".lora_A", arena, Device.CPU);
                        b = file.tensor(path + ".lora_B", arena, Device.CPU);
                    }
                }
                out.put(key + ".lora_A.weight", a);
                out.put(key + ".lora_B.weight", b);
                if (cfg.method() == AdapterMethod.DORA) {
                    out.put(key + ".lora_magnitude_vector", file.tensor(path + ".magnitude", arena, Device.CPU));
                }
            }
            SafetensorsWriter.write(to.resolve(WEIGHTS), out, Map.of("format", "pt"));
        }
        writeText(to.resolve(CONFIG), peftConfig(cfg));
    }

    /** A PEFT LoraConfig for {@code cfg}. */
    static String peftConfig(AdapterConfig cfg) {
        ObjectNode o = StrictJson.PRETTY.createObjectNode();
        o.put("peft_type", "LORA");
        o.put("task_type", "CAUSAL_LM");
        o.put("r", cfg.r());
        o.put("lora_alpha", cfg.alpha());
        o.put("lora_dropout", cfg.dropout());
        var targets = o.putArray("target_modules");
        cfg.targetModules().forEach(targets::add);
        o.put("bias", "none");
        o.put("fan_in_fan_out", false);
        o.put("use_dora", cfg.method() == AdapterMethod.DORA);
        o.put("use_rslora", false);
        o.put("init_lora_weights", true);
        o.put("inference_mode", true);
        o.putNull("base_model_name_or_path");
        o.putNull("modules_to_save");
        o.putObject("rank_pattern");
        o.putObject("alpha_pattern");
        try {
            return StrictJson.PRETTY.writeValueAsString(o) + "\n";
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    private static Map<String, int[]> layerShapes(SafetensorsFile file) throws SafetensorsFormatException {
        String json = file.metadata().get(SHAPES_KEY);
        if (json == null) {
            throw new SafetensorsFormatException(file.path(), "no " + SHAPES_KEY + " metadata: not an sbora4j adapter");
        }
        Map<String, int[]> shapes = new LinkedHashMap<>();
        try {
            JsonNode root = StrictJson.parse(json);
            root.properties().forEach(e -> shapes.put(e.getKey(),
                    new int[] {e.getValue().get(0).intValue(), e.getValue().get(1).intValue()}));
        } catch (JsonProcessingException | RuntimeException e) {
            throw new SafetensorsFormatException(file.path(), "unreadable " + SHAPES_KEY + " metadata: " + e);
        }
        return shapes;
    }

    private static void writeText(Path file, String text) throws IOException {
        byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
        AtomicFiles.write(file, ch -> AtomicFiles.writeFully(ch, ByteBuffer.wrap(bytes)));
    }
}
