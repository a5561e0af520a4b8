package io.sbora4j.cli;

import io.sbora4j.nn.LlamaModel;
import io.sbora4j.quant.MergeMode;
import io.sbora4j.quant.Quantization;
import java.io.PrintWriter;
import java.lang.foreign.Arena;
import picocli.CommandLine.Option;

/** {@code --quantize nf4}: QLoRA's base format for the projections, applied on load. */
final class QuantizeOptions {

    @Option(names = "--quantize", description = "quantise the base projections on load: nf4 (QLoRA / QSBoRA)")
    String quantize;

    /** Quantises {@code model} when asked, printing the memory report; returns whether it did. */
    boolean apply(LlamaModel model, MergeMode mode, Arena arena, PrintWriter out) {
        if (quantize == null) {
            return false;
        }
        if (!quantize.equalsIgnoreCase("nf4")) {
            throw new IllegalArgumentException("unknown quantisation '" + quantize + "' (expected nf4)");
        }
        out.println(Quantization.quantize(model, mode, arena));
        return true;
    }
}
