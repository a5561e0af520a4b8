package io.sbora4j.nn;

/**
 * The shape of a LLaMA-family model, with the fields and defaults of HF's {@code LlamaConfig}.
 *
 * @param kvHeads grouped-query attention: key/value heads shared by {@code heads / kvHeads} query heads each
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
        boolean tieWordEmbeddings) {

    public LlamaConfig {
        positive("vocab_size", vocabSize);
        positive("hidden_size", hiddenSize);
        positive("intermediate_size", intermediateSize);
        positive("num_hidden_layers", layers);
        positive("num_attention_heads", heads);
        positive("num_key_value_heads", kvHeads);
        positive("max_position_embeddings", maxPositions);
        if (hiddenSize % heads != 0) {
            throw new IllegalArgumentException(
                    "hidden_size " + hiddenSize + " is not divisible by num_attention_heads " + heads);
        }
        if (heads % kvHeads != 0) {
            throw new IllegalArgumentException(
                    "num_attention_heads " + heads + " is not divisible by num_key_value_heads " + kvHeads);
        }
        if ((hiddenSize / heads) % 2 != 0) {
            throw new IllegalArgumentException("head_dim " + hiddenSize / heads
                    + " (hidden_size / num_attention_heads) must be even for rotary embeddings");
        }
        if (!(rmsNormEps > 0) || !Double.isFinite(rmsNormEps)) {
            throw new IllegalArgumentException("rms_norm_eps must be positive and finite, got " + rmsNormEps);
        }
        if (!(ropeTheta > 0) || !Double.isFinite(ropeTheta)) {
            throw new IllegalArgumentException("rope_theta must be positive and finite, got " + ropeTheta);
        }
    }

    private static void positive(String name, int v) {
        if (v < 1) {
            throw new IllegalArgumentException(name + " must be positive, got " + v);
        }
    }

    public int headDim() {
        return hiddenSize / heads;
    }

    /** A small model for tests and the demo. */
    public static LlamaConfig tiny(int vocab) {
        return new LlamaConfig(vocab, 64, 128, 2, 4, 2, 1e-6, 10000, 256, false);
    }
}
