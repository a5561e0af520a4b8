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

/**
 * A model directory in HF's layout: {@code config.json} and {@code model.safetensors} (or shards with
 * {@code model.safetensors.index.json}).
 */
public final class ModelFiles {

    public static final String CONFIG = "config.json";

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

    /** Writes {@code model}'s config and weights (f32) into {@code dir}, each file atomically. */
    public static void save(LlamaModel model, Path dir) throws IOException {
        Files.createDirectories(dir);
        SafetensorsWriter.write(
                dir.resolve(ShardedSafetensors.SINGLE_FILE), model.namedTensors(), Map.of("format", "pt"));
        HfLlamaConfig.from(model.config()).write(dir.resolve(CONFIG));
    }
}
