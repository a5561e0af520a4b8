package io.sbora4j.io;

import io.sbora4j.nn.LlamaConfig;
import io.sbora4j.nn.LlamaModel;
import io.sbora4j.quant.Quantization;
import io.sbora4j.tensor.Device;
import io.sbora4j.tensor.Tensor;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * A model directory in HF's layout: {@code config.json} and {@code model.safetensors} (or shards with
 * {@code model.safetensors.index.json}).
 */
public final class ModelFiles {

    public static final String CONFIG = "config.json";

    private static final Pattern SHARD = Pattern.compile("model-\\d{5}-of-\\d{5}\\.safetensors");

    private ModelFiles() {}

    /**
     * Loads the model in {@code dir} as {@code options} say. F32 weights are views of the memory-mapped files (no
     * copy) and live as long as {@code arena}; writable weights are mapped copy-on-write (or, for read-only files,
     * copied), so merges may change the weights in memory without ever touching the files. bf16 or NF4 projections
     * are converted after loading.
     */
    public static LlamaModel load(Path dir, LoadOptions options, Arena arena) throws IOException {
        Device device = options.device();
        boolean writable = options.writable();
        Path cfgFile = dir.resolve(CONFIG);
        if (!Files.isRegularFile(cfgFile)) {
            throw new IOException(dir + " is not a model directory: " + CONFIG + " is missing");
        }
        LlamaConfig cfg = HfLlamaConfig.read(cfgFile).toModelConfig();
        // Copy-on-write mapping needs a writable file; where the files are read-only, copy the weights instead.
        boolean cow = writable && filesWritable(dir);
        ShardedSafetensors weights = ShardedSafetensors.open(
                dir, arena, cow ? SafetensorsFile.Access.COPY_ON_WRITE : SafetensorsFile.Access.READ_ONLY);
        Map<String, Tensor> tensors = new LinkedHashMap<>();
        for (String name : weights.names()) {
            Tensor t = weights.tensor(name, arena, device);
            tensors.put(name, writable && t.isReadOnly() ? t.copyInto(arena, device) : t);
        }
        if (cfg.tieWordEmbeddings()) {
            tensors.remove("lm_head.weight"); // some exports store the tied head twice
        }
        LlamaModel model = LlamaModel.of(cfg, tensors, device, arena);
        switch (options.projections()) {
            case F32 -> {}
            case BF16 -> model.useBf16Projections(arena);
            case NF4 -> Quantization.quantize(model, options.mergeMode(), arena);
        }
        return model;
    }

    private static boolean filesWritable(Path dir) throws IOException {
        try (var files = Files.list(dir)) {
            return files.filter(p -> p.getFileName().toString().endsWith(".safetensors"))
                    .allMatch(Files::isWritable);
        }
    }

    /**
     * Writes {@code model}'s config and weights (f32) into {@code dir} as one unit ({@link
     * AtomicFiles#replaceDirectory}): a crash leaves the previous model or the new one, never the weights of one beside
     * the config of the other. Weight files of an earlier layout are replaced with the unit; other files of
     * {@code dir} (a tokenizer) stay.
     */
    public static void save(LlamaModel model, Path dir) throws IOException {
        HfLlamaConfig config = HfLlamaConfig.from(model.config());
        AtomicFiles.replaceDirectory(dir, ModelFiles::owns, staging -> {
            SafetensorsWriter.write(
                    staging.resolve(ShardedSafetensors.SINGLE_FILE), model.namedTensors(), Map.of("format", "pt"));
            config.write(staging.resolve(CONFIG));
        });
    }

    /** Finishes or undoes a {@link #save} into {@code dir} that a crash interrupted; nothing when none was. */
    public static void recover(Path dir) throws IOException {
        AtomicFiles.recoverDirectory(dir, ModelFiles::owns);
    }

    /** The files of a model unit: its config and weights in either layout. */
    static boolean owns(String name) {
        return name.equals(CONFIG)
                || name.equals(ShardedSafetensors.SINGLE_FILE)
                || name.equals(ShardedSafetensors.INDEX_FILE)
                || SHARD.matcher(name).matches();
    }
}
