package io.sbora4j.data;

import io.sbora4j.autograd.NoGrad;
import io.sbora4j.nn.LlamaModel;
import io.sbora4j.tensor.MemoryScope;
import io.sbora4j.tensor.Tensor;
import java.util.Arrays;

/**
 * Greedy decoding: the most likely next token, again and again, until EOS or a token budget. Each step runs the
 * whole sequence (no key/value cache): simple, and cheap for the short answers evaluation needs.
 */
public final class Generation {

    private Generation() {}

    /** The tokens generated after {@code prompt} (EOS not included). */
    public static int[] greedy(LlamaModel model, int[] prompt, int maxNewTokens, int eosId) {
        int[] seq = Arrays.copyOf(prompt, prompt.length + maxNewTokens);
        int len = prompt.length, max = model.config().maxPositions();
        try (NoGrad ignored = NoGrad.enter()) {
            for (int k = 0; k < maxNewTokens && len < max; k++) {
                int next;
                try (MemoryScope scope = MemoryScope.open()) {
                    Tensor logits = model.logits(Tensor.ofInts(model.device(), Arrays.copyOf(seq, len), 1, len));
                    next = argmaxOfRow(logits, len - 1);
                }
                if (next == eosId) {
                    break;
                }
                seq[len++] = next;
            }
        }
        return Arrays.copyOfRange(seq, prompt.length, len);
    }

    private static int argmaxOfRow(Tensor logits, int row) {
        int vocab = logits.dim(1);
        float[] all = logits.toFloatArray(); // copied back from a device if need be
        int best = 0;
        float bestV = Float.NEGATIVE_INFINITY;
        for (int j = 0; j < vocab; j++) {
            float v = all[row * vocab + j];
            if (v > bestV) {
                bestV = v;
                best = j;
            }
        }
        return best;
    }
}
