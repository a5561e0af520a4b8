package io.sbora4j.nn;

/**
 * The shape of a LLaMA-family model, with the fields and defaults of HF's {@code LlamaConfig}.
 *
 * @param kvHeads grouped-query attention: key/value heads shared by {@code heads / kvHeads} query heads each
 */
public record LlamaConfig(int vocabSize, int hiddenSize, int intermediateSize, int layers, int heads, int kvHeads,
                          double rmsNormEps, double ropeTheta, int maxPositions, boolean tieWordEmbeddings) {

    public LlamaConfig {
        positive("vocab_size", vocabSize);
        positive("hidden_size", hiddenSize);
        positive("intermediate_size", intermediateSize);
        positive("num_hidden_layers", layers);
        positive("num_attention_heads", heads);
        positive("num_key_value_heads", kvHeads);
        positive("max_position_embeddings", maxPositions);
        if (hiddenSize % heads != 0) {
            throw new IllegalArgumentException("hidden_size " + hiddenSize + " is not a multiple of num_attention_heads "
                    + heads);
        }
        if (heads % kvHeads != 0) {
            throw new IllegalArgumentException("num_attention_heads " + heads
                    + " is not a multiple of num_key_value_heads " + kvHeads);
        }
        if ((hiddenSize / heads) % 2 != 0) {
            throw new IllegalArgumentException("head_dim " + hiddenSize / heads + " must be even for rotary embeddings");
        }
        if (!(rmsNormEps > 0) || !(ropeTheta > 0)) {
            throw new IllegalArgumentException("rms_norm_eps and rope_theta must be > 0, got " + rmsNormEps + ", "
                    + ropeTheta);
        }
    }

    private static void positive(String name, int v) {
        if (v < 1) {
            throw new IllegalArgumentException(name + " must be >= 1, got " + v);
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
