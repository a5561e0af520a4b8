package io.sbora4j.cli;

import io.sbora4j.autograd.NoGrad;
import io.sbora4j.io.SafetensorsWriter;
import io.sbora4j.nn.LlamaModel;
import io.sbora4j.tensor.MemoryScope;
import io.sbora4j.tensor.Tensor;
import java.io.PrintWriter;
import java.lang.foreign.Arena;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code sbora forward}: logits for a token list, for parity checks against other implementations. */
@Command(
        name = "forward",
        description = "Write the logits of a token sequence as safetensors (one f32 tensor"
                + " 'logits' of shape [T, vocab]).")
final class ForwardCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Mixin
    DeviceOptions deviceOptions;

    @Mixin
    InferenceModelOptions modelOptions;

    @Option(names = "--tokens", required = true, description = "token ids separated by spaces, e.g. \"1 2 3\"")
    String tokens;

    @Option(names = "--out", required = true, description = "output .safetensors file")
    Path out;

    @Override
    public Integer call() throws Exception {
        String[] parts = tokens.trim().split("[\\s,]+");
        int[] ids = new int[parts.length];
        for (int i = 0; i < parts.length; i++) {
            try {
                ids[i] = Integer.parseInt(parts[i]);
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("--tokens: '" + parts[i] + "' is not a token id");
            }
        }
        PrintWriter pw = spec.commandLine().getOut();
        try (Arena arena = Arena.ofConfined();
                NoGrad ng = NoGrad.enter();
                MemoryScope scope = MemoryScope.open()) {
            LlamaModel m = modelOptions.load(deviceOptions.resolve(), arena, pw);
            Tensor logits = m.logits(Tensor.ofInts(m.device(), ids, 1, ids.length));
            SafetensorsWriter.write(out, Map.of("logits", logits), Map.of("format", "pt"));
        }
        pw.println("wrote logits [" + ids.length + ", vocab] to " + out);
        return 0;
    }
}
