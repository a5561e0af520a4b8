package io.sbora4j.nn;

import io.sbora4j.ops.RopeScaling;

/**
 * The shape of a LLaMA-family model, with the fields and defaults of HF's {@code LlamaConfig}. Qwen2 and Mistral
 * are this shape too: Qwen2 adds biases to the q, k and v projections ({@code qkvBias}), Mistral limits attention to
 * a sliding window.
 *
 * @param kvHeads       grouped-query attention: key/value heads shared by {@code heads / kvHeads} query heads each
 * @param headDim       width of one attention head; hidden / heads unless the config gives {@code head_dim}
 * @param ropeScaling   how the rotary frequencies are scaled ({@link RopeScaling#NONE}: not at all)
 * @param qkvBias       whether q_proj, k_proj and v_proj have a bias (Qwen2)
 * @param slidingWindow 0 for full causal attention; otherwise a token attends to itself and the slidingWindow − 1
 *                      tokens before it (Mistral). Sequences longer than the window are refused by
 *                      {@link LlamaModel}, since within it the mask is the plain causal one
 */
public record LlamaConfig(
        int vocabSize,
        int hiddenSize,
        int intermediateSize,
        int layers,
        int heads,
        int kvHeads,
        double rmsNormEps,
        double ropeTheta,
        int maxPositions,
        boolean tieWordEmbeddings,
        int headDim,
        RopeScaling ropeScaling,
        boolean qkvBias,
        int slidingWindow) {

    /** Checks every field; the messages name HF's keys. */
    public LlamaConfig {
        positive("vocab_size", vocabSize);
        positive("hidden_size", hiddenSize);
        positive("intermediate_size", intermediateSize);
        positive("num_hidden_layers", layers);
        positive("num_attention_heads", heads);
        positive("num_key_value_heads", kvHeads);
        positive("max_position_embeddings", maxPositions);
        positive("head_dim", headDim);
        if (heads % kvHeads != 0) {
            throw new IllegalArgumentException(
                    "num_attention_heads " + heads + " is not divisible by num_key_value_heads " + kvHeads);
        }
        if (headDim % 2 != 0) {
            throw new IllegalArgumentException("head_dim " + headDim + " must be even for rotary embeddings");
        }
        if ((long) heads * headDim > Integer.MAX_VALUE / 2) {
            throw new IllegalArgumentException(
                    "num_attention_heads " + heads + " x head_dim " + headDim + " is too wide");
        }
        if (!(rmsNormEps > 0) || !Double.isFinite(rmsNormEps)) {
            throw new IllegalArgumentException("rms_norm_eps must be positive and finite, got " + rmsNormEps);
        }
        if (!(ropeTheta > 0) || !Double.isFinite(ropeTheta)) {
            throw new IllegalArgumentException("rope_theta must be positive and finite, got " + ropeTheta);
        }
        if (ropeScaling == null) {
            throw new IllegalArgumentException("rope_scaling must not be null (RopeScaling.NONE: no scaling)");
        }
        if (slidingWindow < 0) {
            throw new IllegalArgumentException("sliding_window must be positive, got " + slidingWindow);
        }
    }

    /**
     * A LLaMA shape with head_dim = hidden / heads, no rope scaling, no biases and full causal attention.
     *
     * @throws IllegalArgumentException if hidden_size is not divisible by num_attention_heads, or a field is invalid
     */
    public LlamaConfig(
            int vocabSize,
            int hiddenSize,
            int intermediateSize,
            int layers,
            int heads,
            int kvHeads,
            double rmsNormEps,
            double ropeTheta,
            int maxPositions,
            boolean tieWordEmbeddings) {
        this(
                vocabSize,
                hiddenSize,
                intermediateSize,
                layers,
                heads,
                kvHeads,
                rmsNormEps,
                ropeTheta,
                maxPositions,
                tieWordEmbeddings,
                derivedHeadDim(hiddenSize, heads),
                RopeScaling.NONE,
                false,
                0);
    }

    /** hidden / heads, the head width when the config does not give one. */
    public static int derivedHeadDim(int hiddenSize, int heads) {
        positive("hidden_size", hiddenSize);
        positive("num_attention_heads", heads);
        if (hiddenSize % heads != 0) {
            throw new IllegalArgumentException(
                    "hidden_size " + hiddenSize + " is not divisible by num_attention_heads " + heads);
        }
        if ((hiddenSize / heads) % 2 != 0) {
            throw new IllegalArgumentException("head_dim " + hiddenSize / heads
                    + " (hidden_size / num_attention_heads) must be even for rotary embeddings");
        }
        return hiddenSize / heads;
    }

    /** Width of the query projection's output: heads x headDim (the hidden size unless head_dim says otherwise). */
    public int qWidth() {
        return heads * headDim;
    }

    /** Width of the key and value projections' outputs: kvHeads x headDim. */
    public int kvWidth() {
        return kvHeads * headDim;
    }

    private static void positive(String name, int v) {
        if (v < 1) {
            throw new IllegalArgumentException(name + " must be positive, got " + v);
        }
    }

    /** A small model for tests and the demo. */
    public static LlamaConfig tiny(int vocab) {
        return new LlamaConfig(vocab, 64, 128, 2, 4, 2, 1e-6, 10000, 256, false);
    }
}
