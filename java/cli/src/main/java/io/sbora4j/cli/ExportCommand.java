package io.sbora4j.cli;

import io.sbora4j.io.AdapterFiles;
import io.sbora4j.io.HfLlamaConfig;
import io.sbora4j.io.ModelFiles;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code sbora export}: an adapter in another library's format. */
@Command(
        name = "export",
        description = "Write an adapter as a standard PEFT LoRA adapter (SBoRA's fixed factor"
                + " becomes one-hot rows or columns).")
final class ExportCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Option(names = "--adapter", required = true, description = "sbora4j adapter directory")
    Path adapter;

    @Option(names = "--format", defaultValue = "peft", description = "peft (${DEFAULT-VALUE})")
    String format;

    @Option(names = "--out", required = true, description = "output directory")
    Path out;

    @Option(
            names = "--model",
            description = "base model directory: also check the adapter's layers and shapes against its config.json")
    Path model;

    @Override
    public Integer call() throws Exception {
        if (!format.equals("peft")) {
            throw new IllegalArgumentException("unknown format '" + format + "' (expected peft)");
        }
        if (model != null) {
            Path config = model.resolve(ModelFiles.CONFIG);
            if (!Files.isRegularFile(config)) {
                throw new IOException(model + " is not a model directory: " + ModelFiles.CONFIG + " is missing");
            }
            AdapterFiles.exportPeft(adapter, out, HfLlamaConfig.read(config).toModelConfig());
        } else {
            AdapterFiles.exportPeft(adapter, out);
        }
        PrintWriter pw = spec.commandLine().getOut();
        pw.println("wrote a PEFT LoRA adapter to " + out);
        return 0;
    }
}
