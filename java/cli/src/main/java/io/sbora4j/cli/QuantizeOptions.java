package io.sbora4j.cli;

import io.sbora4j.nn.LlamaModel;
import io.sbora4j.quant.MergeMode;
import io.sbora4j.quant.Quantization;
import java.io.PrintWriter;
import java.lang.foreign.Arena;
import java.util.Locale;
import picocli.CommandLine.Option;

/**
 * The storage format of the base projections, applied on load: {@code --quantize nf4} (QLoRA's format) or
 * {@code --bf16} (bf16 weights and GEMMs, f32 accumulation).
 */
final class QuantizeOptions {

    @Option(names = "--quantize", description = "quantise the base projections on load: nf4 (QLoRA / QSBoRA)")
    String quantize;

    @Option(
            names = "--bf16",
            description = "store the base projections in bf16 and run their GEMMs in bf16 with f32"
                    + " accumulation (adapters stay f32; DoRA needs f32); half the memory of f32 weights")
    boolean bf16;

    /** The base projections' format these options ask for, for a run's identity: f32, bf16 or nf4. */
    String format() {
        return bf16 ? "bf16" : quantize == null ? "f32" : quantize.toLowerCase(Locale.ROOT);
    }

    /** Quantises or converts {@code model} when asked, printing what it did; returns whether it quantised. */
    boolean apply(LlamaModel model, MergeMode mode, Arena arena, PrintWriter out) {
        if (bf16 && quantize != null) {
            throw new IllegalArgumentException("--bf16 and --quantize are two formats for the same weights: pick one");
        }
        if (bf16) {
            model.useBf16Projections(arena);
            out.println("base projections in bf16 (" + model.linearLayers().size() + " weights)");
            return false;
        }
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
