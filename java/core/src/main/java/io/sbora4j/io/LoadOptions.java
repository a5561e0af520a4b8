package io.sbora4j.io;

import io.sbora4j.quant.MergeMode;
import io.sbora4j.tensor.Device;
import java.util.Objects;

/**
 * How {@link ModelFiles#load} loads a model.
 *
 * @param device      where the weights go (and the model computes)
 * @param writable    whether merges may change the weights in memory (the model's own copy; never the files)
 * @param projections the form the block projections are kept in
 * @param mergeMode   how adapters merge into NF4 projections (ignored for the other forms)
 */
public record LoadOptions(Device device, boolean writable, Projections projections, MergeMode mergeMode) {

    /** The form the projections of every block are kept in; embeddings, norms and the head stay f32. */
    public enum Projections {
        /** f32, the file's values (bf16 and f16 files widened exactly). */
        F32,
        /** bf16 weights and bf16 GEMMs with f32 accumulation. */
        BF16,
        /** NF4 with double-quantised scales (QLoRA's format), dequantised on the fly. */
        NF4
    }

    public LoadOptions {
        Objects.requireNonNull(device, "device");
        Objects.requireNonNull(projections, "projections");
        Objects.requireNonNull(mergeMode, "mergeMode");
    }

    /** Read-only f32 weights on {@code device}: what evaluation and training need. */
    public static LoadOptions on(Device device) {
        return new LoadOptions(device, false, Projections.F32, MergeMode.OVERLAY);
    }

    /** These options with weights that merges may change in memory. */
    public LoadOptions asWritable() {
        return new LoadOptions(device, true, projections, mergeMode);
    }

    public LoadOptions withProjections(Projections form) {
        return new LoadOptions(device, writable, form, mergeMode);
    }

    public LoadOptions withMergeMode(MergeMode mode) {
        return new LoadOptions(device, writable, projections, mode);
    }
}
