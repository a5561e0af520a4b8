package io.sbora4j.data;

import io.sbora4j.nn.LlamaModel;

/**
 * Greedy decoding: the most likely next token, again and again, until EOS, a token budget or the model's
 * max_position_embeddings. A {@link Generator} with a key/value cache runs it: the prompt once, then one token a
 * step.
 */
public final class Generation {

    private Generation() {}

    /** The tokens generated after {@code prompt} (EOS not included; a negative {@code eosId}: no EOS). */
    public static int[] greedy(LlamaModel model, int[] prompt, int maxNewTokens, int eosId) {
        if (prompt.length >= model.config().maxPositions()
                && !model.config().ropeScaling().dependsOnLength()) {
            return new int[0];
        }
        return new Generator(model, null)
                .generate(prompt, Generator.Options.greedy(maxNewTokens, eosId), null)
                .tokens();
    }
}
