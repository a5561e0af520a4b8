package io.sbora4j.io;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sbora4j.nn.LinearLayer;
import io.sbora4j.nn.LlamaConfig;
import io.sbora4j.nn.LlamaModel;
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
 * written by its method ({@code AdapterMethod.toPeft}). Every reader ({@link #load} and {@link #exportPeft} alike)
 * goes through the same checks before anything is loaded or written: the config (strict JSON: no duplicated key, no
 * float where an integer belongs), the layer shapes of the metadata (positive, at most {@value #MAX_DIMENSION}, and
 * the model's where a model is given), the method the weights were saved with, the rank against each layer
 * ({@code AdapterMethod.maxRank}), every tensor the method stores with its shape and type and no tensor it does not
 * store, finite factor values, and the method's own checks of the values ({@code AdapterMethod.checkStored}: SBoRA's
 * index lists hold r distinct values in range). A failure is a one-line {@link IllegalArgumentException} (or
 * {@link IOException} for a file that cannot be read or is not a safetensors file) naming the file and the layer.
 */
public final class AdapterFiles {

    public static final String CONFIG = "adapter_config.json";
    public static final String WEIGHTS = "adapter_model.safetensors";
    /** What defines the training run that wrote the adapter (written by training, for checks on a re-run). */
    public static final String RUN = "training_run.json";

    private static final String SHAPES_KEY = "sbora4j.layer_shapes";
    private static final String METHOD_KEY = "sbora4j.method";

    /**
     * The widest layer dimension an adapter's metadata may give (2^20, far above any LLaMA projection): a larger one
     * is a corrupt file, and would size the one-hot factors of a PEFT export.
     */
    public static final int MAX_DIMENSION = 1 << 20;

    /** The most bytes {@code adapter_config.json} may hold (it is read whole). */
    static final long MAX_CONFIG_BYTES = 64L << 20;

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
        meta.put(METHOD_KEY, model.config().method().id());
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
        Path p = AtomicFiles.unitToRead(dir).resolve(RUN);
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
    private record Stored(AdapterConfig config, Map<String, Map<String, Tensor>> layers, Map<String, int[]> shapes) {}

    private static Stored read(Path dir, Module model, Arena arena) throws IOException {
        Map<String, int[]> layers = new LinkedHashMap<>();
        model.linearLayers().forEach((k, v) -> layers.put(k, new int[] {v.outFeatures(), v.inFeatures()}));
        return read(dir, layers, arena);
    }

    /**
     * Reads and checks the adapter in {@code dir}: against {@code modelLayers} (path to {out, in} of every linear
     * layer of the model) when it is not null, else against itself alone.
     */
    private static Stored read(Path unit, Map<String, int[]> modelLayers, Arena arena) throws IOException {
        Path dir = AtomicFiles.unitToRead(unit);
        AdapterConfig cfg = readConfig(dir);
        Path weights = dir.resolve(WEIGHTS);
        if (!Files.isRegularFile(weights)) {
            throw new IOException(dir + " is not an adapter directory: " + WEIGHTS + " is missing");
        }
        SafetensorsFile file = SafetensorsFile.open(weights, arena);
        Map<String, int[]> shapes = layerShapes(file);
        String savedWith = file.metadata().get(METHOD_KEY);
        if (savedWith != null && !savedWith.equals(cfg.method().id())) {
            throw new IllegalArgumentException(weights + ": the weights were saved by method "
                    + SafetensorsFormatException.oneLine(savedWith) + ", but "
                    + CONFIG + " says " + cfg.method().id());
        }
        if (shapes.isEmpty()) {
            throw new IllegalArgumentException(weights + ": the adapter adapts no layer");
        }
        // names go into messages: none may break one into lines (no model names a layer or tensor so)
        for (String name : file.names()) {
            printableName(weights, "tensor", name);
        }
        shapes.keySet().forEach(layer -> printableName(weights, "layer", layer));
        Map<String, Map<String, Tensor>> stored = new LinkedHashMap<>();
        for (var e : shapes.entrySet()) {
            int out = e.getValue()[0], in = e.getValue()[1];
            if (modelLayers != null) {
                int[] layer = modelLayers.get(e.getKey());
                if (layer == null) {
                    throw new IllegalArgumentException(
                            weights + ": adapted layer " + e.getKey() + " does not exist in the model");
                }
                if (layer[0] != out || layer[1] != in) {
                    throw new IllegalArgumentException(weights + ": layer " + e.getKey() + " is " + layer[0] + "x"
                            + layer[1] + " in the model but " + out + "x" + in + " in the adapter");
                }
            } else if (!cfg.targets(e.getKey())) {
                throw new IllegalArgumentException(dir + ": the weights hold an adapter for layer " + e.getKey()
                        + ", which the config does not target");
            }
            stored.put(e.getKey(), layerTensors(file, weights, e.getKey(), out, in, cfg, arena));
        }
        if (modelLayers != null) {
            for (String path : modelLayers.keySet()) {
                if (cfg.targets(path) != stored.containsKey(path)) {
                    throw new IllegalArgumentException(dir + ": "
                            + (stored.containsKey(path)
                                    ? "the weights hold an adapter for layer " + path
                                            + ", which the config does not target"
                                    : "the config targets layer " + path + " but the weights hold no adapter for it"));
                }
            }
        }
        for (String name : file.names()) {
            int dot = name.lastIndexOf('.');
            String layer = dot < 0 ? "" : name.substring(0, dot);
            if (!stored.containsKey(layer) || !stored.get(layer).containsKey(name.substring(dot + 1))) {
                throw new IllegalArgumentException(weights + ": tensor " + name + " belongs to no adapted layer ("
                        + cfg.method().id() + " stores "
                        + String.join(", ", cfg.method().storedTensors(1, 1, 1).keySet()) + " per layer)");
            }
        }
        return new Stored(cfg, stored, shapes);
    }

    /** The stored tensors of one layer, each checked against the method's spec. */
    private static Map<String, Tensor> layerTensors(
            SafetensorsFile file, Path weights, String path, int out, int in, AdapterConfig cfg, Arena arena)
            throws IOException {
        int maxRank = cfg.method().maxRank(out, in);
        if (cfg.r() > maxRank) {
            throw new IllegalArgumentException(weights + ": layer " + path + " (" + out + "x" + in + "): r=" + cfg.r()
                    + " exceeds " + maxRank + ", the most " + cfg.method().id() + " can take on it");
        }
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
            if (t.dtype().isFloating()) {
                finite(weights, key, t);
            }
            m.put(spec.getKey(), t);
        }
        try {
            cfg.method().checkStored(path, m, out, in, cfg.r());
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(weights + ": " + e.getMessage(), e);
        }
        return m;
    }

    private static void printableName(Path weights, String what, String name) {
        String shown = SafetensorsFormatException.oneLine(name);
        if (!shown.equals(name)) {
            throw new IllegalArgumentException(
                    weights + ": " + what + " name '" + shown + "' holds control characters");
        }
    }

    /** A stored factor holds no NaN or infinity: merged into a base, one would spread through every output. */
    private static void finite(Path weights, String key, Tensor t) {
        for (long i = 0; i < t.numel(); i++) {
            float v = t.getFloat(i);
            if (!Float.isFinite(v)) {
                throw new IllegalArgumentException(weights + ": tensor " + key + " holds " + v + " at element " + i
                        + " (an adapter's factors must be finite)");
            }
        }
    }

    /** Copies the stored tensors into the adapter {@code name} of every layer (to its device, checked by its method). */
    private static void fill(Stored s, PeftModel<?> peft, String name) {
        Map<String, LinearLayer> layers = peft.model().linearLayers();
        for (var e : s.layers.entrySet()) {
            ((AdaptedLinear) layers.get(e.getKey())).adapter(name).load(e.getValue());
        }
    }

    /** The config of the adapter in {@code dir}. */
    public static AdapterConfig readConfig(Path unit) throws IOException {
        Path dir = AtomicFiles.unitToRead(unit);
        Path p = dir.resolve(CONFIG);
        if (!Files.isRegularFile(p)) {
            throw new IOException(dir + " is not an adapter directory: " + CONFIG + " is missing");
        }
        try {
            return AdapterConfig.fromJson(TextFiles.readUtf8(p, MAX_CONFIG_BYTES));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(p + ": " + e.getMessage(), e);
        }
    }

    /**
     * Writes the native adapter in {@code from} as a standard PEFT LoRA adapter in {@code to}: keys
     * {@code base_model.model.<path>.lora_A.weight} (r x in) and {@code .lora_B.weight} (out x r), the method's other
     * keys, and a LoraConfig with {@code peft_type: LORA}. The adapter is checked as {@link #load} checks it, but
     * against itself alone (see {@link #exportPeft(Path, Path, LlamaConfig)} to check it against a model too), and
     * nothing is written unless every layer passes.
     */
    public static void exportPeft(Path from, Path to) throws IOException {
        export(from, to, null);
    }

    /**
     * {@link #exportPeft(Path, Path)}, with the adapter also checked against a model of {@code model}'s shape, as
     * {@link #load} checks it: every adapted layer exists with the shapes the file records, and the config targets
     * exactly those layers.
     */
    public static void exportPeft(Path from, Path to, LlamaConfig model) throws IOException {
        Map<String, int[]> layers = new LinkedHashMap<>();
        LlamaModel.expectedShapes(model).forEach((name, shape) -> {
            if (shape.length == 2 && name.endsWith("_proj.weight")) {
                layers.put(name.substring(0, name.length() - ".weight".length()), shape);
            }
        });
        export(from, to, layers);
    }

    private static void export(Path from, Path to, Map<String, int[]> modelLayers) throws IOException {
        Map<String, Tensor> out = new LinkedHashMap<>();
        AdapterConfig cfg;
        try (Arena arena = Arena.ofConfined()) {
            Stored s = read(from, modelLayers, arena);
            cfg = s.config();
            for (var e : s.layers().entrySet()) {
                String path = e.getKey();
                int[] shape = s.shapes().get(path);
                cfg.method()
                        .toPeft(path, e.getValue(), shape[0], shape[1], cfg, arena)
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
                if (!v.isArray() || v.size() != 2 || !dimension(v.get(0)) || !dimension(v.get(1))) {
                    throw new IllegalArgumentException("layer " + e.getKey() + ": " + v + " is not [out, in] (each an"
                            + " integer in [1, " + MAX_DIMENSION + "])");
                }
                shapes.put(e.getKey(), new int[] {v.get(0).intValue(), v.get(1).intValue()});
            });
        } catch (JsonProcessingException e) {
            throw new SafetensorsFormatException(
                    file.path(), "unreadable " + SHAPES_KEY + " metadata: " + StrictJson.describe(e));
        } catch (RuntimeException e) {
            throw new SafetensorsFormatException(
                    file.path(), "unreadable " + SHAPES_KEY + " metadata: " + e.getMessage());
        }
        return shapes;
    }

    private static boolean dimension(JsonNode n) {
        return n.isIntegralNumber() && n.canConvertToInt() && n.intValue() >= 1 && n.intValue() <= MAX_DIMENSION;
    }

    private static void writeText(Path file, String text) throws IOException {
        byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
        AtomicFiles.write(file, ch -> AtomicFiles.writeFully(ch, ByteBuffer.wrap(bytes)));
    }
}
