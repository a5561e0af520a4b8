package io.sbora4j.nn;

import io.sbora4j.tensor.Device;
import io.sbora4j.tensor.Tensor;
import java.lang.foreign.Arena;
import java.util.Arrays;

/**
 * The keys and values (after RoPE) that a {@link LlamaModel} computed for the tokens of a batch of sequences, so
 * that each generated token costs one forward of that token, not of the whole sequence
 * ({@link LlamaModel#forwardCached}).
 *
 * <p>Per layer one key and one value tensor of (batch·maxLen) x (kvHeads·headDim), f32, on the model's device, owned
 * by the arena the caller gives (they live as long as it does). Sequence b's token at position p sits in row
 * {@code b·maxLen + p}: each sequence starts at row 0 of its own block (left-aligned) and grows by the tokens it is
 * given, independently of the others, so that a position is its row and no sequence is ever shifted. Memory:
 * {@code 2 · layers · batch · maxLen · kvHeads · headDim · 4} bytes.
 */
public final class KvCache {

    private final int batch;
    private final int maxLen;
    private final Tensor[] keys;
    private final Tensor[] values;
    private final int[] lengths;

    /**
     * An empty cache of {@code batch} sequences of up to {@code maxLen} tokens each for models of {@code config} on
     * {@code device}, its tensors zeroed and owned by {@code arena}.
     */
    public KvCache(LlamaConfig config, Device device, Arena arena, int batch, int maxLen) {
        if (batch < 1 || maxLen < 1) {
            throw new IllegalArgumentException(
                    "a key/value cache needs batch >= 1 and maxLen >= 1, got batch " + batch + ", maxLen " + maxLen);
        }
        long rows = (long) batch * maxLen;
        if (rows * config.kvWidth() > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException("a key/value cache of " + batch + " x " + maxLen + " tokens of width "
                    + config.kvWidth() + " is more than one tensor holds");
        }
        this.batch = batch;
        this.maxLen = maxLen;
        this.keys = new Tensor[config.layers()];
        this.values = new Tensor[config.layers()];
        for (int l = 0; l < config.layers(); l++) {
            // zeroed: rows past a sequence's length are read (and ignored) by the padding queries of a step
            keys[l] = Tensor.zeros(arena, device, (int) rows, config.kvWidth());
            values[l] = Tensor.zeros(arena, device, (int) rows, config.kvWidth());
        }
        this.lengths = new int[batch];
    }

    /** The number of sequences. */
    public int batch() {
        return batch;
    }

    /** The most tokens a sequence may hold. */
    public int maxLen() {
        return maxLen;
    }

    /** The tokens sequence {@code b} holds: the position its next token will have. */
    public int length(int b) {
        return lengths[b];
    }

    /** {@link #length} of every sequence, a copy. */
    public int[] lengths() {
        return lengths.clone();
    }

    /** Forgets every sequence's tokens (the memory stays, to be written again). */
    public void clear() {
        Arrays.fill(lengths, 0);
    }

    /**
     * Keeps the first {@code length} tokens of sequence {@code b} and forgets the rest: the next tokens overwrite
     * them (to take back tokens, or to time a step at a fixed length).
     */
    public void truncate(int b, int length) {
        if (length < 0 || length > lengths[b]) {
            throw new IllegalArgumentException(
                    "sequence " + b + " holds " + lengths[b] + " tokens; cannot truncate it to " + length);
        }
        lengths[b] = length;
    }

    Tensor keys(int layer) {
        return keys[layer];
    }

    Tensor values(int layer) {
        return values[layer];
    }

    void advance(int b, int n) {
        lengths[b] += n;
    }
}
