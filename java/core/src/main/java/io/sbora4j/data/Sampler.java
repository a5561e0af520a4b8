package io.sbora4j.data;

import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * Picks the next token from a row of logits: greedy (the most likely token, the lowest id among equals), or a draw
 * from the softmax of {@code logits / temperature} restricted to the {@code topK} most likely tokens and then to the
 * smallest set of most likely tokens whose probability reaches {@code topP} (nucleus sampling), as transformers
 * applies them (temperature, then top-k, then top-p). Draws come from a {@link SplittableRandom} seeded with the
 * options' seed, so that the same seed gives the same tokens. Not thread-safe: one per sequence.
 */
public final class Sampler {

    /**
     * How tokens are picked.
     *
     * @param temperature 0 for greedy decoding; otherwise the logits are divided by it before the softmax
     * @param topK        keep the k most likely tokens (0: all)
     * @param topP        keep the most likely tokens whose probabilities sum to at least topP, in (0, 1] (1: all)
     * @param seed        the seed of the draws
     */
    public record Options(float temperature, int topK, float topP, long seed) {

        /** Greedy decoding. */
        public static final Options GREEDY = new Options(0, 0, 1, 0);

        /** Checks the ranges: temperature finite and >= 0, topK >= 0, topP in (0, 1]. */
        public Options {
            if (!(temperature >= 0) || !Float.isFinite(temperature)) {
                throw new IllegalArgumentException("temperature must be finite and >= 0, got " + temperature);
            }
            if (topK < 0) {
                throw new IllegalArgumentException("top-k must be >= 0 (0: no limit), got " + topK);
            }
            if (!(topP > 0 && topP <= 1)) {
                throw new IllegalArgumentException("top-p must lie in (0, 1], got " + topP);
            }
        }

        /** Whether every pick is the most likely token: temperature 0 or top-k 1. */
        public boolean greedy() {
            return temperature == 0 || topK == 1;
        }
    }

    private final Options options;
    private final SplittableRandom random;

    /** A sampler whose draws are seeded with {@code options.seed()}. */
    public Sampler(Options options) {
        this(options, 0);
    }

    /**
     * A sampler for sequence {@code stream} of a batch: seeded with the options' seed and the stream, so that each
     * sequence of a batch draws on its own and stream 0 draws as a sampler of one sequence does.
     */
    public Sampler(Options options, int stream) {
        this.options = options;
        // SplittableRandom mixes its seed: seeds one golden-ratio step apart give unrelated streams
        this.random = new SplittableRandom(options.seed() + stream * 0x9E3779B97F4A7C15L);
    }

    /** The options it samples with. */
    public Options options() {
        return options;
    }

    /** The most likely token of {@code logits[from, from + vocab)}: the lowest id among equal maxima. */
    public static int argmax(float[] logits, int from, int vocab) {
        int best = 0;
        float bestV = Float.NEGATIVE_INFINITY;
        for (int j = 0; j < vocab; j++) {
            float v = logits[from + j];
            if (v > bestV) {
                bestV = v;
                best = j;
            }
        }
        return best;
    }

    /** The next token from {@code logits[from, from + vocab)}. */
    public int next(float[] logits, int from, int vocab) {
        if (options.greedy()) {
            return argmax(logits, from, vocab);
        }
        // the tokens by logit, highest first (ties by id): a float's bits made to order as signed ints, inverted
        long[] order = new long[vocab];
        for (int j = 0; j < vocab; j++) {
            int bits = Float.floatToIntBits(logits[from + j]);
            int ordered = bits ^ ((bits >> 31) & 0x7fffffff);
            order[j] = ((long) ~ordered << 32) | j;
        }
        Arrays.sort(order);
        int kept = options.topK() > 0 ? Math.min(options.topK(), vocab) : vocab;
        double max = logits[from + (int) order[0]] / (double) options.temperature();
        double[] p = new double[kept];
        double sum = 0;
        for (int i = 0; i < kept; i++) {
            p[i] = Math.exp(logits[from + (int) order[i]] / (double) options.temperature() - max);
            sum += p[i];
        }
        if (options.topP() < 1) {
            double cumulative = 0;
            int n = 0;
            while (n < kept) {
                cumulative += p[n++] / sum;
                if (cumulative >= options.topP()) {
                    break;
                }
            }
            kept = n;
            sum = 0;
            for (int i = 0; i < kept; i++) {
                sum += p[i];
            }
        }
        double u = random.nextDouble() * sum;
        for (int i = 0; i < kept; i++) {
            u -= p[i];
            if (u < 0) {
                return (int) order[i];
            }
        }
        return (int) order[kept - 1]; // rounding left u >= 0 at the end
    }
}
