package io.sbora4j.backend;

/**
 * The geometry of one causal attention call: {@code batch} sequences of {@code seq} tokens, {@code heads} query
 * heads sharing {@code kvHeads} key/value heads (grouped-query attention), each {@code headDim} wide; scores are
 * scaled by {@code scale} (1/√headDim in LLaMA).
 */
public record AttentionShape(int batch, int seq, int heads, int kvHeads, int headDim, float scale) {

    public AttentionShape {
        if (batch < 0 || seq < 0 || heads < 1 || kvHeads < 1 || headDim < 1 || heads % kvHeads != 0) {
            throw new IllegalArgumentException("attention shape: batch=" + batch + " seq=" + seq + " heads=" + heads
                    + " kvHeads=" + kvHeads + " headDim=" + headDim + " (heads must be a multiple of kvHeads)");
        }
    }

    /** Rows of q and out: batch x seq tokens. */
    public int tokens() {
        return batch * seq;
    }
}
