package io.sbora4j.bench;

import io.sbora4j.autograd.NoGrad;
import io.sbora4j.data.Generator;
import io.sbora4j.nn.KvCache;
import io.sbora4j.nn.LlamaConfig;
import io.sbora4j.nn.LlamaModel;
import io.sbora4j.tensor.Device;
import io.sbora4j.tensor.MemoryScope;
import io.sbora4j.tensor.Tensor;
import java.lang.foreign.Arena;
import java.util.Arrays;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Decoding with and without the key/value cache on a small random LLaMA (hidden 256, intermediate 688, 4 layers, 8
 * query / 4 key-value heads, vocabulary 320), batch 1, greedy, cpu backend.
 *
 * <ul>
 *   <li>{@code decodeStep}: one new token against a cache holding {@code length} tokens (the cache is cut back to
 *       {@code length} before each step): its cost should stay nearly flat in the length, the attention over the
 *       cache being a small part of a step beside the projections.
 *   <li>{@code generate}: {@code newTokens} tokens after a prompt of {@code prompt} tokens, with the cache
 *       ({@link Generator}) or without (the whole sequence again for every token, as generation did before).
 * </ul>
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Fork(value = 1, jvmArgsAppend = "--enable-native-access=ALL-UNNAMED")
@Warmup(iterations = 2, time = 2, timeUnit = TimeUnit.SECONDS)
@Measurement(iterations = 3, time = 2, timeUnit = TimeUnit.SECONDS)
public class GenerationBench {

    static final int VOCAB = 320;

    @Param({"256"})
    public int hidden;

    @Param({"4"})
    public int layers;

    /** Tokens in the cache before the timed step of {@code decodeStep}. */
    @Param({"128", "512", "1024", "2048"})
    public int length;

    /** The prompt of {@code generate}. */
    @Param({"512"})
    public int prompt;

    /** Tokens {@code generate} produces. */
    @Param({"128"})
    public int newTokens;

    /** {@code generate} with the cache (true) or re-running the whole sequence (false). */
    @Param({"true", "false"})
    public boolean cached;

    private Arena arena;
    private LlamaModel model;
    private KvCache cache;
    private int[] promptIds;

    @Setup(Level.Trial)
    public void setup() {
        Device dev = BenchTensors.device("cpu");
        arena = Arena.ofShared();
        int max = Math.max(length, prompt + newTokens) + 1;
        LlamaConfig cfg = new LlamaConfig(VOCAB, hidden, hidden * 43 / 16, layers, 8, 4, 1e-5, 10000, max, false);
        model = LlamaModel.random(cfg, BenchTensors.SEED, dev, arena);
        SplittableRandom rng = new SplittableRandom(BenchTensors.SEED);
        int[] ids = new int[Math.max(length, prompt)];
        for (int i = 0; i < ids.length; i++) {
            ids[i] = rng.nextInt(VOCAB);
        }
        promptIds = Arrays.copyOf(ids, prompt);
        cache = model.newCache(arena, 1, length + 1);
        try (MemoryScope s = MemoryScope.open()) {
            model.forwardCached(cache, new int[][] {Arrays.copyOf(ids, length)});
        }
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        arena.close();
    }

    /** One decoding step at {@code length} cached tokens; returns a logit so that the step is not dead code. */
    @Benchmark
    public float decodeStep() {
        cache.truncate(0, length);
        try (MemoryScope s = MemoryScope.open()) {
            return model.forwardCached(cache, new int[][] {{7}}).getFloat(0);
        }
    }

    /** {@code newTokens} greedy tokens after the prompt; returns the last. */
    @Benchmark
    public int generate() {
        if (cached) {
            int[] out = new Generator(model, null)
                    .generate(promptIds, Generator.Options.greedy(newTokens, -1), null)
                    .tokens();
            return out[out.length - 1];
        }
        int[] seq = Arrays.copyOf(promptIds, prompt + newTokens);
        try (NoGrad ignored = NoGrad.enter()) {
            for (int len = prompt; len < prompt + newTokens; len++) {
                try (MemoryScope s = MemoryScope.open()) {
                    Tensor logits = model.logits(Tensor.ofInts(model.device(), Arrays.copyOf(seq, len), 1, len));
                    // the last row only: what a decoder without a cache needs of the logits
                    float[] last = logits.slice(len - 1, 1).toFloatArray();
                    seq[len] = io.sbora4j.data.Sampler.argmax(last, 0, VOCAB);
                }
            }
        }
        return seq[seq.length - 1];
    }
}
