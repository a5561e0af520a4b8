package io.sbora4j.data;

import io.sbora4j.autograd.NoGrad;
import io.sbora4j.nn.KvCache;
import io.sbora4j.nn.LlamaModel;
import io.sbora4j.tensor.MemoryScope;
import io.sbora4j.tensor.Tensor;
import java.lang.foreign.Arena;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;

/**
 * Text generation with a key/value cache ({@link LlamaModel#forwardCached}): a batch of prompts of any lengths is
 * run once (the prefill), then each step runs one new token per unfinished sequence, so that a token costs one
 * token's forward pass whatever the length so far. Each sequence stops on its own: at a stop token id (not
 * included), at a stop string (the text ends before it, also when it spans several tokens), after
 * {@code maxNewTokens}, or at the model's max_position_embeddings (without dynamic rope scaling). Tokens are picked
 * by a {@link Sampler} per sequence, seeded from the options' seed and the sequence's index.
 *
 * <p>With a tokenizer the text is decoded as it grows and handed to a {@link Listener} piece by piece: a piece
 * never ends inside a multi-byte UTF-8 character (text decoded up to an incomplete one ends in U+FFFD, which is
 * held back until the next token completes it) and never holds the start of what may become a stop string.
 */
public final class Generator {

    /**
     * What to generate.
     *
     * @param maxNewTokens the most tokens to generate per sequence (>= 0)
     * @param sampling     how tokens are picked
     * @param stopTokenIds token ids that end a sequence (EOS), not part of the result
     * @param stopStrings  strings that end a sequence, not part of the text (need a tokenizer); non-empty
     */
    public record Options(int maxNewTokens, Sampler.Options sampling, int[] stopTokenIds, List<String> stopStrings) {

        public Options {
            if (maxNewTokens < 0) {
                throw new IllegalArgumentException("max new tokens must be >= 0, got " + maxNewTokens);
            }
            stopTokenIds = stopTokenIds.clone();
            stopStrings = List.copyOf(stopStrings);
            for (String s : stopStrings) {
                if (s.isEmpty()) {
                    throw new IllegalArgumentException("a stop string must not be empty");
                }
            }
        }

        /** Greedy decoding of up to {@code maxNewTokens}, stopping at {@code eosId} (none if negative). */
        public static Options greedy(int maxNewTokens, int eosId) {
            return new Options(
                    maxNewTokens, Sampler.Options.GREEDY, eosId < 0 ? new int[0] : new int[] {eosId}, List.of());
        }
    }

    /** Why a sequence ended. */
    public enum StopReason {
        /** A stop token id was generated. */
        STOP_TOKEN,
        /** The text reached a stop string. */
        STOP_STRING,
        /** {@link Options#maxNewTokens} tokens were generated. */
        MAX_NEW_TOKENS,
        /** The sequence reached the model's max_position_embeddings. */
        MAX_POSITIONS
    }

    /**
     * One sequence's result.
     *
     * @param tokens the generated tokens, without a stop token id (those of a stop string included)
     * @param text   their text, ending before the first stop string; null without a tokenizer
     * @param reason why it ended
     */
    public record Result(int[] tokens, String text, StopReason reason) {}

    /** Receives each sequence's output as it comes. */
    @FunctionalInterface
    public interface Listener {
        /**
         * Sequence {@code sequence} generated {@code token} (-1 when the sequence ends and hands over the text it
         * held back); {@code text} is the new text to show after what came before, possibly empty ("" without a
         * tokenizer).
         */
        void onToken(int sequence, int token, String text);

        /** Sequence {@code sequence} ended (after its last {@link #onToken}); nothing by default. */
        default void onEnd(int sequence, StopReason reason) {}
    }

    private final LlamaModel model;
    private final Tokenizer tokenizer;

    /** A generator over {@code model}; {@code tokenizer} may be null (then no text and no stop strings). */
    public Generator(LlamaModel model, Tokenizer tokenizer) {
        this.model = model;
        this.tokenizer = tokenizer;
    }

    /** {@link #generate(List, Options, Listener)} of one prompt. */
    public Result generate(int[] prompt, Options options, Listener listener) {
        return generate(List.of(prompt), options, listener).getFirst();
    }

    /**
     * Generates after each of {@code prompts} (token ids, each non-empty), all in one batch; {@code listener} may be
     * null.
     *
     * @throws IllegalArgumentException if a prompt is empty or holds a token outside the vocabulary, or stop
     *                                  strings are given without a tokenizer
     */
    public List<Result> generate(List<int[]> prompts, Options options, Listener listener) {
        return generate(prompts, Collections.nCopies(prompts.size(), options), false, listener, null);
    }

    /** One step's forward pass: {@link LlamaModel#forwardCached} by default, or a caller's wrapping of it. */
    @FunctionalInterface
    public interface Forward {
        /** The logits of {@code model.forwardCached(cache, tokens)}, (batch x vocab). */
        Tensor run(KvCache cache, int[][] tokens);
    }

    /**
     * Generates after each of {@code prompts}, all in one batch, sequence b with its own {@code options.get(b)}
     * (lengths, sampling, stops): a batch of unrelated requests. Each sequence's sampler is seeded with its own
     * options' seed alone, so that its draws are those of the sequence generated on its own. Every step's forward
     * goes through {@code forward} (e.g. to open an adapter routing around it; the step's rectangle is
     * {@code max_b tokens[b].length} tokens per sequence); null runs {@link LlamaModel#forwardCached}.
     *
     * @throws IllegalArgumentException as {@link #generate(List, Options, Listener)}, or if the options do not match
     *                                  the prompts
     */
    public List<Result> generate(List<int[]> prompts, List<Options> options, Listener listener, Forward forward) {
        if (options.size() != prompts.size()) {
            throw new IllegalArgumentException(prompts.size() + " prompts but " + options.size() + " options");
        }
        return generate(prompts, options, true, listener, forward);
    }

    private List<Result> generate(
            List<int[]> prompts, List<Options> perSequence, boolean ownSeeds, Listener listener, Forward forward) {
        for (Options o : perSequence) {
            if (!o.stopStrings().isEmpty() && tokenizer == null) {
                throw new IllegalArgumentException("stop strings need a tokenizer");
            }
        }
        Forward fwd = forward != null ? forward : model::forwardCached;
        int batch = prompts.size();
        if (batch == 0) {
            return List.of();
        }
        boolean capped = !model.config().ropeScaling().dependsOnLength();
        Sequence[] seqs = new Sequence[batch];
        int maxLen = 1;
        for (int b = 0; b < batch; b++) {
            Options options = perSequence.get(b);
            int[] p = prompts.get(b);
            if (p.length == 0) {
                throw new IllegalArgumentException("prompt " + b + " is empty: generation needs at least one token");
            }
            int room = capped ? model.config().maxPositions() - p.length : Integer.MAX_VALUE;
            int budget = Math.max(0, Math.min(options.maxNewTokens(), room));
            StopReason end = budget == options.maxNewTokens() ? StopReason.MAX_NEW_TOKENS : StopReason.MAX_POSITIONS;
            seqs[b] = new Sequence(b, budget, end, new Sampler(options.sampling(), ownSeeds ? 0 : b));
            maxLen = Math.max(maxLen, (int) Math.min(Integer.MAX_VALUE, (long) p.length + budget));
        }
        int vocab = model.config().vocabSize();
        try (NoGrad ignored = NoGrad.enter();
                Arena arena = Arena.ofConfined()) {
            KvCache cache = model.newCache(arena, batch, maxLen);
            int[][] step = new int[batch][];
            boolean any = false;
            for (int b = 0; b < batch; b++) {
                any |= seqs[b].budget > 0;
                step[b] = seqs[b].budget > 0 ? prompts.get(b) : new int[0];
                if (seqs[b].budget == 0) {
                    seqs[b].finish(seqs[b].end, listener);
                }
            }
            while (any) {
                float[] logits;
                try (MemoryScope scope = MemoryScope.open()) {
                    logits = fwd.run(cache, step).toFloatArray();
                }
                any = false;
                for (int b = 0; b < batch; b++) {
                    Sequence s = seqs[b];
                    if (step[b].length == 0) {
                        continue;
                    }
                    int token = s.sampler.next(logits, b * vocab, vocab);
                    step[b] = s.accept(token, perSequence.get(b), listener) ? new int[] {token} : new int[0];
                    any |= step[b].length > 0;
                }
            }
        }
        List<Result> out = new ArrayList<>(batch);
        for (Sequence s : seqs) {
            out.add(s.result());
        }
        return out;
    }

    /** One sequence's state: its tokens, its text so far and how much of it was handed out. */
    private final class Sequence {
        final int index;
        final int budget;
        final StopReason end;
        final Sampler sampler;
        int[] tokens = new int[16];
        int count;
        String text = "";
        int emitted;
        StopReason reason;

        Sequence(int index, int budget, StopReason end, Sampler sampler) {
            this.index = index;
            this.budget = budget;
            this.end = end;
            this.sampler = sampler;
        }

        /** Takes a generated token; whether the sequence goes on (the token is then its next input). */
        boolean accept(int token, Options options, Listener listener) {
            for (int id : options.stopTokenIds()) {
                if (id == token) {
                    finish(StopReason.STOP_TOKEN, listener);
                    return false;
                }
            }
            if (count == tokens.length) {
                tokens = Arrays.copyOf(tokens, 2 * count);
            }
            tokens[count++] = token;
            if (tokenizer == null) {
                if (listener != null) {
                    listener.onToken(index, token, "");
                }
            } else {
                // the whole text again: a tokenizer may join a token to the ones before it (a byte of a character,
                // a space a SentencePiece marker turns into)
                text = tokenizer.decode(Arrays.copyOf(tokens, count));
                int stop = firstStop(options.stopStrings());
                if (stop >= 0) {
                    text = text.substring(0, stop);
                    emit(token, text.length(), listener);
                    finish(StopReason.STOP_STRING, listener);
                    return false;
                }
                emit(token, shown(options.stopStrings()), listener);
            }
            if (count == budget) {
                finish(end, listener);
                return false;
            }
            return true;
        }

        private int firstStop(List<String> stops) {
            int first = -1;
            for (String s : stops) {
                int i = text.indexOf(s);
                if (i >= 0 && (first < 0 || i < first)) {
                    first = i;
                }
            }
            return first;
        }

        /**
         * How much of the text can be shown: not a trailing U+FFFD (a character whose bytes have not all come),
         * nor a tail that is the start of a stop string.
         */
        private int shown(List<String> stops) {
            int safe = text.length();
            while (safe > 0 && text.charAt(safe - 1) == '\uFFFD') {
                safe--;
            }
            if (safe > 0 && Character.isHighSurrogate(text.charAt(safe - 1))) {
                safe--;
            }
            int hold = 0;
            for (String s : stops) {
                for (int k = Math.min(s.length() - 1, safe); k > hold; k--) {
                    if (text.regionMatches(safe - k, s, 0, k)) {
                        hold = k;
                        break;
                    }
                }
            }
            return safe - hold;
        }

        private void emit(int token, int upTo, Listener listener) {
            String piece = upTo > emitted ? text.substring(emitted, upTo) : "";
            emitted = Math.max(emitted, upTo);
            if (listener != null) {
                listener.onToken(index, token, piece);
            }
        }

        void finish(StopReason why, Listener listener) {
            reason = why;
            if (tokenizer != null && text.length() > emitted) {
                emit(-1, text.length(), listener);
            }
            if (listener != null) {
                listener.onEnd(index, why);
            }
        }

        Result result() {
            return new Result(Arrays.copyOf(tokens, count), tokenizer == null ? null : text, reason);
        }
    }
}
