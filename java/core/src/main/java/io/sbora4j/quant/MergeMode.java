package io.sbora4j.quant;

import java.util.Locale;

/** How an adapter is merged into an NF4 weight. */
public enum MergeMode {
    /**
     * Re-encode only the blocks the update touches (for SBoRA: those holding its r columns or rows); every other
     * block stays byte-identical. Costs the re-encoding error in the touched blocks, which is reported.
     */
    REQUANTIZE,
    /**
     * Keep the merged columns or rows in f32 beside the NF4 weight (a dense f32 copy for updates that touch
     * everything): the merged layer computes exactly what the adapted one did, within f32 rounding.
     */
    OVERLAY;

    public static MergeMode parse(String s) {
        try {
            return valueOf(s.trim().toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("unknown merge mode '" + s + "' (expected requantize or overlay)");
        }
    }
}
