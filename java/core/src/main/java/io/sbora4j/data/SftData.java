package io.sbora4j.data;

import io.sbora4j.peft.Seeds;
import io.sbora4j.tensor.Device;
import io.sbora4j.tensor.Tensor;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Supervised fine-tuning data: each example becomes {@code [BOS] prompt response [EOS]}, cut at {@code maxLen}
 * tokens, with the loss on response tokens only (prompt targets are {@link #IGNORE}, as LLM-Adapters does with
 * {@code train_on_inputs=False}). Batches are a pure function of (seed, step, micro-batch): a shuffled order per
 * epoch, drawn from the seed and the epoch number.
 */
public final class SftData {

    /** The target value the loss skips (HF's -100). */
    public static final int IGNORE = -100;

    /** One tokenized example: model inputs and next-token targets of equal length. */
    public record Sequence(int[] inputs, int[] targets) {
        public int length() {
            return inputs.length;
        }

        /** Targets that count in the loss. */
        public int supervised() {
            int n = 0;
            for (int t : targets) {
                n += t == IGNORE ? 0 : 1;
            }
            return n;
        }
    }

    /** A padded batch: ids (batch, seq) and targets (batch·seq), on a device. */
    public record Batch(Tensor ids, Tensor targets, long tokens) {}

    private final List<Sequence> sequences;
    private final Tokenizer tokenizer;
    private final long seed;
    /** The permutation of the last epoch asked for: one object, so threads sharing the data see a consistent pair. */
    private volatile Epoch cached = new Epoch(-1, null);

    private record Epoch(long epoch, int[] perm) {}

    public SftData(List<Example> examples, Tokenizer tokenizer, PromptTemplate template, int maxLen, long seed) {
        if (maxLen < 2) {
            throw new IllegalArgumentException("sequence length must be >= 2, got " + maxLen);
        }
        this.tokenizer = tokenizer;
        this.seed = seed;
        this.sequences = new ArrayList<>();
        for (Example e : examples) {
            Sequence s = encode(e, tokenizer, template, maxLen);
            if (s.supervised() > 0) {
                sequences.add(s);
            }
        }
        if (sequences.isEmpty()) {
            throw new IllegalArgumentException(
                    "no example keeps a response token within " + maxLen + " tokens: raise the sequence length");
        }
    }

    /** The inputs and targets of one example. */
    public static Sequence encode(Example e, Tokenizer tok, PromptTemplate template, int maxLen) {
        int[] prompt = tok.withBos(tok.encode(template.prompt(e))); // BOS first, where the tokenizer has one
        int[] response = tok.encode(e.output());
        int[] all = new int[prompt.length + response.length + 1];
        int n = Math.min(maxLen + 1, all.length);
        System.arraycopy(prompt, 0, all, 0, prompt.length);
        System.arraycopy(response, 0, all, prompt.length, response.length);
        all[all.length - 1] = tok.eosId();
        int[] inputs = Arrays.copyOf(all, n - 1);
        int[] targets = Arrays.copyOfRange(all, 1, n);
        for (int t = 0; t < targets.length; t++) {
            if (t + 1 < prompt.length) { // position t+1 of `all` is still the prompt
                targets[t] = IGNORE;
            }
        }
        return new Sequence(inputs, targets);
    }

    public int size() {
        return sequences.size();
    }

    public List<Sequence> sequences() {
        return List.copyOf(sequences);
    }

    /** The {@code micro}-th micro-batch of {@code batchSize} sequences of step {@code step}, padded right. */
    public Batch batch(long step, int micro, int accumulation, int batchSize, Device device) {
        return batch(step, micro, accumulation, batchSize, 0, 1, device);
    }

    /**
     * Rank {@code rank}'s shard of the {@code micro}-th micro-batch of step {@code step} when {@code ranks} ranks
     * train data-parallel with {@code batchSize} sequences each: of the {@code ranks * batchSize} sequences the
     * global micro-batch holds (those one process would take at that batch), the {@code batchSize} from
     * {@code rank * batchSize} on. Padded right to its own longest sequence.
     */
    public Batch batch(long step, int micro, int accumulation, int batchSize, int rank, int ranks, Device device) {
        return pad(picked(step, micro, accumulation, batchSize, rank, ranks), tokenizer.padId(), device);
    }

    /** The tokens (padding excluded) of that micro-batch, without building it. */
    public long tokens(long step, int micro, int accumulation, int batchSize) {
        return tokens(step, micro, accumulation, batchSize, 0, 1);
    }

    /** The tokens (padding excluded) of rank {@code rank}'s shard of that micro-batch, without building it. */
    public long tokens(long step, int micro, int accumulation, int batchSize, int rank, int ranks) {
        long n = 0;
        for (Sequence s : picked(step, micro, accumulation, batchSize, rank, ranks)) {
            n += s.length();
        }
        return n;
    }

    /**
     * The supervised targets (those the loss averages) of rank {@code rank}'s shard of that micro-batch, without
     * building it.
     */
    public long supervised(long step, int micro, int accumulation, int batchSize, int rank, int ranks) {
        long n = 0;
        for (Sequence s : picked(step, micro, accumulation, batchSize, rank, ranks)) {
            n += s.supervised();
        }
        return n;
    }

    private List<Sequence> picked(long step, int micro, int accumulation, int batchSize, int rank, int ranks) {
        if (ranks < 1 || rank < 0 || rank >= ranks) {
            throw new IllegalArgumentException("rank " + rank + " out of range for " + ranks + " ranks");
        }
        List<Sequence> picked = new ArrayList<>(batchSize);
        // the global micro-batch is the one a single process at batch ranks * batchSize takes
        long first = ((step * accumulation + micro) * ranks + rank) * (long) batchSize;
        for (int i = 0; i < batchSize; i++) {
            picked.add(sequences.get(position(first + i)));
        }
        return picked;
    }

    /** Pads {@code seqs} to the longest one; padding is ignored by the loss. */
    public static Batch pad(List<Sequence> seqs, int padId, Device device) {
        int len = 0;
        for (Sequence s : seqs) {
            len = Math.max(len, s.length());
        }
        int[] ids = new int[seqs.size() * len], targets = new int[seqs.size() * len];
        Arrays.fill(ids, padId);
        Arrays.fill(targets, IGNORE);
        long tokens = 0;
        for (int b = 0; b < seqs.size(); b++) {
            Sequence s = seqs.get(b);
            System.arraycopy(s.inputs(), 0, ids, b * len, s.length());
            System.arraycopy(s.targets(), 0, targets, b * len, s.length());
            tokens += s.length();
        }
        return new Batch(
                Tensor.ofInts(device, ids, seqs.size(), len), Tensor.ofInts(device, targets, ids.length), tokens);
    }

    /** Which sequence sits at global sample position k: a fresh permutation per epoch. */
    private int position(long k) {
        int n = sequences.size();
        long epoch = k / n;
        Epoch c = cached;
        if (epoch == c.epoch()) {
            return c.perm()[(int) (k % n)];
        }
        int[] perm = new int[n];
        for (int i = 0; i < n; i++) {
            perm[i] = i;
        }
        SplittableRandom rng = new SplittableRandom(Seeds.mix(seed ^ Seeds.mix(epoch + 0x2545F4914F6CDD1DL)));
        for (int i = n - 1; i > 0; i--) {
            int j = rng.nextInt(i + 1);
            int t = perm[i];
            perm[i] = perm[j];
            perm[j] = t;
        }
        cached = new Epoch(epoch, perm);
        return perm[(int) (k % n)];
    }
}
