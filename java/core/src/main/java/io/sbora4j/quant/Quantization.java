package io.sbora4j.quant;

import io.sbora4j.nn.FrozenLinear;
import io.sbora4j.nn.Linear;
import io.sbora4j.nn.Module;
import java.lang.foreign.Arena;
import java.util.Locale;

/** Quantises a model's projections to NF4 ({@code --quantize nf4}), and reports what that saves. */
public final class Quantization {

    private Quantization() {}

    /** What quantising a model stored. */
    public record Report(int layers, long parameters, long bytes) {
        public double bitsPerParameter() {
            return parameters == 0 ? 0 : bytes * 8.0 / parameters;
        }

        @Override
        public String toString() {
            return String.format(
                    Locale.ROOT,
                    "NF4: %d projections, %,d parameters in %,d bytes = %.3f bits" + " per parameter (f32: 32)",
                    layers,
                    parameters,
                    bytes,
                    bitsPerParameter());
        }
    }

    /** What the NF4 layers of {@code model} hold (all zeros when it has none). */
    public static Report report(Module model) {
        int layers = 0;
        long params = 0, bytes = 0;
        for (var layer : model.linearLayers().values()) {
            if (layer.frozen() instanceof QuantizedLinear q) {
                layers++;
                params += q.nf4().numel();
                bytes += q.nf4().storageBytes();
            }
        }
        return new Report(layers, params, bytes);
    }

    /**
     * Replaces every linear layer of {@code model} by its NF4 form (QLoRA's base: for a LLaMA, the projections of
     * every block; embedding, norms and head stay f32), allocated in {@code arena}, one layer at a time: the pages of
     * an f32 weight mapped from a file are released as soon as it is encoded, so the resident memory grows by the
     * NF4 form only. Do this before injecting adapters.
     */
    public static Report quantize(Module model, MergeMode mode, Arena arena) {
        int[] layers = {0};
        long[] params = {0}, bytes = {0};
        model.replaceLinearLayers(layer -> {
            if (layer instanceof FrozenLinear f && !(layer instanceof QuantizedLinear)) {
                QuantizedLinear q = QuantizedLinear.quantize(f, mode, arena);
                if (f instanceof Linear l) {
                    l.weight().releaseMappedPages();
                }
                layers[0]++;
                params[0] += q.nf4().numel();
                bytes[0] += q.nf4().storageBytes();
                return q;
            }
            return layer;
        });
        return new Report(layers[0], params[0], bytes[0]);
    }
}
