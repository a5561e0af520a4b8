package io.sbora4j.io;

import io.sbora4j.nn.LlamaConfig;
import io.sbora4j.nn.LlamaModel;
import io.sbora4j.quant.Quantization;
import io.sbora4j.tensor.Device;
import io.sbora4j.tensor.Tensor;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
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
     * Loads the model in {@code unit} as {@code options} say, into memory of its own owned by {@code arena}: after
     * this returns the model does not depend on the files, which may be truncated, rewritten or deleted without
     * affecting it. Read-only weights reject writes as views of a read-only mapping would; writable ones may be
     * changed by merges (the files never are).
     *
     * <p>The files are mapped while loading, each tensor copied out by Java code (the JVM turns a read of a page a
     * truncated file no longer has into an exception there; in a native kernel it is a SIGBUS that kills the
     * process), the mapped pages released as it goes, and unmapped before this returns. bf16 or NF4 projections are
     * converted during the load, one weight at a time from a copy, so the resident memory grows by the converted
     * form and never holds the whole f32 model: ask for the form here rather than converting a loaded f32 model,
     * whose f32 weights stay in {@code arena}. The files are checked at the end for writes in place during the load
     * (size and modification times, see {@link SafetensorsFile#requireUnchanged}).
     *
     * @throws SafetensorsFormatException if a file is malformed, or was truncated while it was being read
     * @throws IOException                if a file cannot be read or was written while it was being read
     */
    public static LlamaModel load(Path unit, LoadOptions options, Arena arena) throws IOException {
        Path dir = AtomicFiles.unitToRead(unit); // a save a crash interrupted leaves the old model aside
        Device device = options.device();
        Path cfgFile = dir.resolve(CONFIG);
        if (!Files.isRegularFile(cfgFile)) {
            throw new IOException(dir + " is not a model directory: " + CONFIG + " is missing");
        }
        LlamaConfig cfg = HfLlamaConfig.read(cfgFile).toModelConfig();
        Set<String> converted = options.projections() == LoadOptions.Projections.F32 ? Set.of() : projections(cfg);
        try (Arena files = Arena.ofConfined()) { // the mappings, and the f32 projections that are converted
            ShardedSafetensors weights = ShardedSafetensors.open(dir, files);
            Map<String, Tensor> tensors = new LinkedHashMap<>();
            for (String name : weights.names()) {
                if (cfg.tieWordEmbeddings() && name.equals("lm_head.weight")) {
                    continue; // some exports store the tied head twice
                }
                // a projection to convert stays a view until it is converted (from a copy, one at a time)
                Tensor t = converted.contains(name)
                        ? weights.tensor(name, files, device)
                        : weights.read(name, arena, device);
                tensors.put(name, options.writable() || t.isReadOnly() || !device.isHost() ? t : readOnly(t));
            }
            LlamaModel model = LlamaModel.of(cfg, tensors, device, arena);
            try {
                switch (options.projections()) {
                    case F32 -> {}
                    case BF16 -> model.useBf16Projections(arena);
                    case NF4 -> Quantization.quantize(model, options.mergeMode(), arena);
                }
            } catch (UncheckedIOException e) { // a truncation under a copy from the mapping
                throw new IOException(dir + ": " + e.getMessage(), e.getCause());
            }
            weights.requireUnchanged();
            return model;
        }
    }

    /** The names of the block projections' weights of a model of {@code cfg}. */
    private static Set<String> projections(LlamaConfig cfg) {
        Set<String> names = new HashSet<>();
        for (int l = 0; l < cfg.layers(); l++) {
            for (String p : LlamaModel.PROJECTIONS) {
                names.add("model.layers." + l + "." + p + ".weight");
            }
        }
        return names;
    }

    /** {@code t}'s memory seen read-only: Java writes throw, and in-place updates refuse it. */
    private static Tensor readOnly(Tensor t) {
        return Tensor.wrap(
                        t.data().asReadOnly(),
                        t.arena(),
                        t.device(),
                        t.dtype(),
                        t.shape().dims())
                .named(t.name());
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
