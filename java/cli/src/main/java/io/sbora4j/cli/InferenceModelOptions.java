package io.sbora4j.cli;

import io.sbora4j.io.AdapterFiles;
import io.sbora4j.io.LoadOptions;
import io.sbora4j.io.ModelFiles;
import io.sbora4j.nn.LlamaModel;
import io.sbora4j.tensor.Device;
import java.io.IOException;
import java.io.PrintWriter;
import java.lang.foreign.Arena;
import java.nio.file.Path;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code --model}, {@code --adapter} and {@code --quantize} for the commands that only run a model (eval, forward). */
final class InferenceModelOptions {

    @Option(names = "--model", required = true, description = "model directory")
    Path model;

    @Option(names = "--adapter", description = "adapter directory")
    Path adapter;

    @Mixin
    QuantizeOptions quantizeOptions;

    /** The model (quantised if asked) with its adapter attached, in evaluation mode. */
    LlamaModel load(Device device, Arena arena, PrintWriter out) throws IOException {
        LlamaModel m = ModelFiles.load(model, quantizeOptions.loadOptions(LoadOptions.on(device)), arena);
        quantizeOptions.report(m, out);
        if (adapter != null) {
            AdapterFiles.load(adapter, m, arena).train(false);
        }
        return m;
    }
}
