package io.sbora4j.io;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sbora4j.nn.LinearLayer;
import io.sbora4j.nn.Module;
import io.sbora4j.peft.AdaptedLinear;
import io.sbora4j.peft.AdapterConfig;
import io.sbora4j.peft.PeftModel;
import io.sbora4j.peft.TensorSpec;
import io.sbora4j.tensor.Device;
import io.sbora4j.tensor.Tensor;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/**
 * Adapter directories: {@code adapter_config.json} + {@code adapter_model.safetensors}.
 *
 * <p>The files of an adapter are written as one unit ({@link AtomicFiles#replaceDirectory}), with
 * {@value #RUN} beside them when training wrote them.
 *
 * <p>The native form keeps what each method stores ({@code AdapterMethod.storedTensors}: trained factors, SBoRA's
 * index lists as i32) under the layer's path, {@code <path>.lora_B}, {@code <path>.idx}, ..., and the layer shapes in
 * the metadata. The PEFT form ({@link #exportPeft}) is a standard LoRA adapter any LoRA runtime loads, each layer
 * written by its method ({@code AdapterMethod.toPeft}). Every file is checked against the method and the model
 * before anything is loaded or written: a missing tensor, a shape or type that disagrees, an index list that is not
 * r distinct values in range, is a one-line error naming the layer.
 */
public final class AdapterFiles {

    public static final String CONFIG = "adapter_config.json";
    public static final String WEIGHTS = "adapter_model.safetensors";
    /** What defines the training run that wrote the adapter (written by training, for checks on a re-run). */
    public static final String RUN = "training_run.json";

    private static final String SHAPES_KEY = "sbora4j.layer_shapes";

    private AdapterFiles() {}

    /** Writes the active adapter of {@code model} into {@code dir} as one unit; see {@link #save(PeftModel, Path, String)}. */
    public static void save(PeftModel<?> model, Path dir) throws IOException {
        save(model, dir, null);
    }

    /**
     * Writes the active adapter of {@code model} into {@code dir} (created if needed): weights, config and, when
     * {@code runRecord} is not null, that text as {@value #RUN} (what defines the training run that made it). The
     * files are written as one unit ({@link AtomicFiles#replaceDirectory}): a crash leaves the previous adapter or the
     * new one, never the weights of one beside the config of the other. Other entries of {@code dir} (a
     * {@code checkpoints/} folder) stay.
     */
    public static void save(PeftModel<?> model, Path dir, String runRecord) throws IOException {
        Map<String, Tensor> tensors = new LinkedHashMap<>();
        ObjectNode shapes = StrictJson.PRETTY.createObjectNode();
        for (var e : model.adapted().entrySet()) {
            e.getValue().adapter().tensors().forEach((k, t) -> tensors.put(e.getKey() + "." + k, t));
            shapes.putArray(e.getKey())
                    .add(e.getValue().outFeatures())
                    .add(e.getValue().inFeatures());
        }
        Map<String, String> meta = new LinkedHashMap<>();
        meta.put("format", "pt");
        meta.put("sbora4j.method", model.config().method().id());
        meta.put(SHAPES_KEY, shapes.toString());
        String config = model.config().toJson();
        AtomicFiles.replaceDirectory(dir, AdapterFiles::owns, staging -> {
            SafetensorsWriter.write(staging.resolve(WEIGHTS), tensors, meta);
            writeText(staging.resolve(CONFIG), config);
            if (runRecord != null) {
                writeText(staging.resolve(RUN), runRecord);
            }
        });
    }

    /** Whether {@code name} is one of the files of an adapter unit (replaced or removed with it). */
    static boolean owns(String name) {
        return name.equals(CONFIG) || name.equals(WEIGHTS) || name.equals(RUN);
    }

    /**
     * Finishes or undoes a save into {@code dir} that a crash interrupted ({@link AtomicFiles#recoverDirectory});
     * nothing to do when none was.
     */
    public static void recover(Path dir) throws IOException {
        AtomicFiles.recoverDirectory(dir, AdapterFiles::owns);
    }

    /** Whether {@code dir} holds adapter files (whole or not). */
    public static boolean present(Path dir) {
        return Files.exists(dir.resolve(CONFIG))
                || Files.exists(dir.resolve(WEIGHTS))
                || Files.exists(dir.resolve(RUN));
    }

    /** The {@value #RUN} record saved with the adapter in {@code dir}, if it has one. */
    public static Optional<String> readRunRecord(Path dir) throws IOException {
        Path p = dir.resolve(RUN);
        return Files.isRegularFile(p) ? Optional.of(Files.readString(p, StandardCharsets.UTF_8)) : Optional.empty();
    }

    /** Removes the adapter's files from {@code dir} as one unit, keeping its other entries. */
    public static void delete(Path dir) throws IOException {
        if (Files.isDirectory(dir)) {
            AtomicFiles.replaceDirectory(dir, AdapterFiles::owns, staging -> {});
        }
    }

    /**
     * Loads the adapter in {@code dir} onto {@code model} (frozen) as adapter {@value AdaptedLinear#DEFAULT}: every
     * adapted layer must exist in the model with the shapes the file records, the config must target exactly those
     * layers, and every tensor the method stores must be present with its shape and type. Nothing is injected
     * until all of that is checked.
     */
    public static <M extends Module> PeftModel<M> load(Path dir, M model, Arena arena) throws IOException {
        try (Arena files = Arena.ofConfined()) {
            Stored s = read(dir, model, files);
            PeftModel<M> peft = PeftModel.inject(model, s.config, arena);
            fill(s, peft, AdaptedLinear.DEFAULT);
            return peft;
        }
    }

    /** Loads the adapter in {@code dir} into {@code peft} as one more adapter named {@code name}, in {@code arena}. */
    public static void load(Path dir, PeftModel<?> peft, String name, Arena arena) throws IOException {
        try (Arena files = Arena.ofConfined()) {
            Stored s = read(dir, peft.model(), files);
            String before = peft.activeAdapter();
            peft.addAdapter(name, s.config, arena);
            fill(s, peft, name);
            peft.setActiveAdapter(before);
        }
    }

    /** An adapter file read and checked against its method and a model, before any adapter is created. */
    private record Stored(AdapterConfig config, Map<String, Map<String, Tensor>> layers) {}

    private static Stored read(Path dir, Module model, Arena arena) throws IOException {
        AdapterConfig cfg = readConfig(dir);
        Path weights = dir.resolve(WEIGHTS);
        SafetensorsFile file = SafetensorsFile.open(weights, arena);
        Map<String, int[]> shapes = layerShapes(file);
        Map<String, LinearLayer> layers = model.linearLayers();
        Map<String, Map<String, Tensor>> stored = new LinkedHashMap<>();
        for (var e : shapes.entrySet()) {
            LinearLayer layer = layers.get(e.getKey());
            if (layer == null) {
                throw new IllegalArgumentException(
                        weights + ": adapted layer " + e.getKey() + " does not exist in the model");
            }
            int out = e.getValue()[0], in = e.getValue()[1];
            if (layer.outFeatures() != out || layer.inFeatures() != in) {
                throw new IllegalArgumentException(weights + ": layer " + e.getKey() + " is " + layer.outFeatures()
                        + "x" + layer.inFeatures() + " in the model but " + out + "x" + in + " in the adapter");
            }
            stored.put(e.getKey(), layerTensors(file, weights, e.getKey(), out, in, cfg, arena));
        }
        for (String path : layers.keySet()) {
            if (cfg.targets(path) != stored.containsKey(path)) {
                throw new IllegalArgumentException(dir + ": "
                        + (stored.containsKey(path)
                                ? "the weights hold an adapter for layer " + path + ", which the config does not target"
                                : "the config targets layer " + path + " but the weights hold no adapter for it"));
            }
        }
        return new Stored(cfg, stored);
    }

    /** The stored tensors of one layer, each checked against the method's spec. */
    private static Map<String, Tensor> layerTensors(
            SafetensorsFile file, Path weights, String path, int out, int in, AdapterConfig cfg, Arena arena)
            throws IOException {
        Map<String, Tensor> m = new LinkedHashMap<>();
        for (var spec : cfg.method().storedTensors(out, in, cfg.r()).entrySet()) {
            String key = path + "." + spec.getKey();
            if (!file.contains(key)) {
                throw new IllegalArgumentException(weights + " lacks tensor " + key + " ("
                        + cfg.method().id() + " stores " + spec.getValue() + ")");
            }
            Tensor t = file.read(key, arena, Device.CPU); // its own memory: the file may change later
            TensorSpec want = spec.getValue();
            if (!t.shape().equals(want.shape()) || t.dtype() != want.dtype()) {
                throw new IllegalArgumentException(weights + ": tensor " + key + " is " + t.describe() + ", but "
                        + cfg.method().id() + " at r=" + cfg.r() + " on a " + out + "x" + in + " layer stores "
                        + want);
            }
            m.put(spec.getKey(), t);
        }
        cfg.method().checkStored(path, m, out, in, cfg.r());
        return m;
    }

    /** Copies the stored tensors into the adapter {@code name} of every layer (to its device, checked by its method). */
    private static void fill(Stored s, PeftModel<?> peft, String name) {
        Map<String, LinearLayer> layers = peft.model().linearLayers();
        for (var e : s.layers.entrySet()) {
            ((AdaptedLinear) layers.get(e.getKey())).adapter(name).load(e.getValue());
        }
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
     * {@code base_model.model.<path>.lora_A.weight} (r x in) and {@code .lora_B.weight} (out x r), the method's other
     * keys, and a LoraConfig with {@code peft_type: LORA}. The adapter is checked as {@link #load} checks it.
     */
    public static void exportPeft(Path from, Path to) throws IOException {
        AdapterConfig cfg = readConfig(from);
        Map<String, Tensor> out = new LinkedHashMap<>();
        try (Arena arena = Arena.ofConfined()) {
            Path weights = from.resolve(WEIGHTS);
            SafetensorsFile file = SafetensorsFile.open(weights, arena);
            for (var e : layerShapes(file).entrySet()) {
                String path = e.getKey();
                int rows = e.getValue()[0], cols = e.getValue()[1];
                Map<String, Tensor> stored = layerTensors(file, weights, path, rows, cols, cfg, arena);
                cfg.method()
                        .toPeft(path, stored, rows, cols, cfg, arena)
                        .forEach((k, t) -> out.put("base_model.model." + path + "." + k, t));
            }
            String config = peftConfig(cfg);
            AtomicFiles.replaceDirectory(to, AdapterFiles::owns, staging -> {
                SafetensorsWriter.write(staging.resolve(WEIGHTS), out, Map.of("format", "pt"));
                writeText(staging.resolve(CONFIG), config);
            });
        }
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
        o.put("use_dora", false);
        o.put("use_rslora", false);
        o.put("init_lora_weights", true);
        o.put("inference_mode", true);
        o.putNull("base_model_name_or_path");
        o.putNull("modules_to_save");
        o.putObject("rank_pattern");
        o.putObject("alpha_pattern");
        cfg.method().peftConfig().forEach((k, v) -> o.set(k, StrictJson.PRETTY.valueToTree(v)));
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
            root.properties().forEach(e -> {
                JsonNode v = e.getValue();
                if (!v.isArray()
                        || v.size() != 2
                        || !v.get(0).canConvertToExactIntegral()
                        || !v.get(1).canConvertToExactIntegral()
                        || v.get(0).intValue() < 1
                        || v.get(1).intValue() < 1) {
                    throw new IllegalArgumentException("layer " + e.getKey() + ": " + v + " is not [out, in]");
                }
                shapes.put(e.getKey(), new int[] {v.get(0).intValue(), v.get(1).intValue()});
            });
        } catch (JsonProcessingException | RuntimeException e) {
            throw new SafetensorsFormatException(
                    file.path(), "unreadable " + SHAPES_KEY + " metadata: " + e.getMessage());
        }
        return shapes;
    }

    private static void writeText(Path file, String text) throws IOException {
        byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
        AtomicFiles.write(file, ch -> AtomicFiles.writeFully(ch, ByteBuffer.wrap(bytes)));
    }
}
