package io.sbora4j.cli;

import io.sbora4j.io.LoadOptions;
import io.sbora4j.nn.LlamaModel;
import io.sbora4j.quant.Quantization;
import java.io.PrintWriter;
import java.util.Locale;
import picocli.CommandLine.Option;

/**
 * The storage format of the base projections, converted during the load: {@code --quantize nf4} (QLoRA's format) or
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

    /**
     * {@code base} with the form these options ask for: the load converts the projections one weight at a time, so
     * the f32 model is never held whole.
     */
    LoadOptions loadOptions(LoadOptions base) {
        if (bf16 && quantize != null) {
            throw new IllegalArgumentException("--bf16 and --quantize are two formats for the same weights: pick one");
        }
        if (bf16) {
            return base.withProjections(LoadOptions.Projections.BF16);
        }
        if (quantize == null) {
            return base;
        }
        if (!quantize.equalsIgnoreCase("nf4")) {
            throw new IllegalArgumentException("unknown quantisation '" + quantize + "' (expected nf4)");
        }
        return base.withProjections(LoadOptions.Projections.NF4);
    }

    /** Prints what the load converted, if anything. */
    void report(LlamaModel model, PrintWriter out) {
        if (bf16) {
            out.println("base projections in bf16 (" + model.linearLayers().size() + " weights)");
        } else if (quantize != null) {
            out.println(Quantization.report(model));
        }
    }
}
