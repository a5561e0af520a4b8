package io.sbora4j.cli;

import io.sbora4j.io.AdapterFiles;
import io.sbora4j.io.LoadOptions;
import io.sbora4j.io.ModelFiles;
import io.sbora4j.nn.LlamaModel;
import io.sbora4j.peft.AdaptedLinear;
import io.sbora4j.peft.AdapterMethod;
import io.sbora4j.peft.PeftModel;
import io.sbora4j.quant.MergeMode;
import io.sbora4j.quant.Quantization;
import io.sbora4j.quant.QuantizedLinear;
import java.io.PrintWriter;
import java.lang.foreign.Arena;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code sbora merge}: folds an adapter into the base weights and writes a plain model. */
@Command(
        name = "merge",
        description =
                "Merge an adapter into its base model and write the merged model" + " (safetensors + config.json).")
final class MergeCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Mixin
    DeviceOptions deviceOptions;

    @Option(names = "--model", required = true, description = "base model directory")
    Path model;

    @Option(names = "--adapter", required = true, description = "adapter directory")
    Path adapter;

    @Option(names = "--out", required = true, description = "output model directory")
    Path out;

    @Option(
            names = "--quantized",
            description = "merge into an NF4 base: requantize (re-encode only the touched"
                    + " blocks) or overlay (keep merged columns/rows in f32)")
    String quantized;

    @Override
    public Integer call() throws Exception {
        PrintWriter pw = spec.commandLine().getOut();
        if (out.toAbsolutePath().normalize().equals(model.toAbsolutePath().normalize())) {
            throw new IllegalArgumentException("--out must differ from --model: the base stays untouched");
        }
        try (Arena arena = Arena.ofConfined()) {
            // writable weights: the merge changes the model's own copy in memory, never the base model's files
            LoadOptions options = LoadOptions.on(deviceOptions.resolve()).asWritable();
            if (quantized != null) { // quantised during the load, one weight at a time
                options =
                        options.withProjections(LoadOptions.Projections.NF4).withMergeMode(MergeMode.parse(quantized));
            }
            LlamaModel m = ModelFiles.load(model, options, arena);
            if (quantized != null) {
                pw.println(Quantization.report(m));
            }
            var peft = AdapterFiles.load(adapter, m, arena);
            PeftModel.MergeCount count = peft.mergeAllAndCount();
            if (quantized != null) {
                double err = 0;
                int touched = 0, blocks = 0;
                for (AdaptedLinear a : peft.adapted().values()) {
                    QuantizedLinear.MergeReport r = ((QuantizedLinear) a.base()).lastMerge();
                    err = Math.max(err, r.maxAbsError());
                    touched += r.blocksTouched();
                    blocks += r.blocks();
                }
                pw.printf(
                        Locale.ROOT,
                        "NF4 %s merge: %,d of %,d blocks re-encoded, max |error| %.3g%n",
                        quantized,
                        touched,
                        blocks,
                        err);
            }
            AdapterMethod method = peft.config().method();
            int layers = peft.adapted().size();
            // Written in f32 (HF-loadable): the values the merged NF4 layers compute. The NF4 layout itself is not
            // written yet.
            ModelFiles.save(peft.unload(), out);
            pw.printf(
                    Locale.ROOT,
                    "merged %s into %d layers: %,d of %,d adapted weights changed (%.3f%%); wrote %s%n",
                    method,
                    layers,
                    count.changed(),
                    count.total(),
                    count.percent(),
                    out);
        }
        return 0;
    }
}
