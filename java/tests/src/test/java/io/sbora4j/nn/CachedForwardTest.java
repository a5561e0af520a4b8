package io.sbora4j.nn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sbora4j.autograd.NoGrad;
import io.sbora4j.backend.AttentionShape;
import io.sbora4j.backend.Backends;
import io.sbora4j.data.Sampler;
import io.sbora4j.ops.RopeScaling;
import io.sbora4j.peft.AdaptedLinear;
import io.sbora4j.peft.AdapterConfig;
import io.sbora4j.peft.AdapterMethod;
import io.sbora4j.peft.AdapterMethods;
import io.sbora4j.peft.PeftModel;
import io.sbora4j.tensor.Device;
import io.sbora4j.tensor.MemoryScope;
import io.sbora4j.tensor.Tensor;
import io.sbora4j.testing.Rand;
import java.lang.foreign.Arena;
import java.util.Arrays;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The cached forward ({@link LlamaModel#forwardCached}) against the whole-sequence logits: greedy decoding with the
 * cache picks the same tokens, each step's logits within {@value #TOLERANCE}, on the cpu and reference backends,
 * for plain LLaMA, Qwen2's biases, llama3 and dynamic rope scaling, a Mistral window and adapters merged or not.
 */
class CachedForwardTest {

    static final double TOLERANCE = 1e-4;

    static final LlamaConfig PLAIN = new LlamaConfig(61, 32, 48, 2, 4, 2, 1e-5, 10000, 64, false);

    static LlamaConfig config(int heads, int kvHeads, int maxPos, RopeScaling rope, boolean bias, int window) {
        return new LlamaConfig(61, 32, 48, 2, heads, kvHeads, 1e-5, 10000, maxPos, true, 8, rope, bias, window);
    }

    static java.util.stream.Stream<Arguments> models() {
        return java.util.stream.Stream.of(Device.CPU, Device.REFERENCE)
                .flatMap(d -> java.util.stream.Stream.of(
                        Arguments.of(d, "plain", PLAIN),
                        Arguments.of(d, "gqa 4, one kv head", config(4, 1, 64, RopeScaling.NONE, false, 0)),
                        Arguments.of(d, "qwen2 biases", config(4, 2, 64, RopeScaling.NONE, true, 0)),
                        Arguments.of(d, "llama3 rope", config(4, 2, 128, RopeScaling.llama3(8, 1, 4, 16), false, 0)),
                        Arguments.of(d, "dynamic within", config(4, 2, 64, RopeScaling.dynamic(2, 64), false, 0)),
                        Arguments.of(d, "mistral window", config(4, 2, 64, RopeScaling.NONE, false, 32))));
    }

    /** A model whose biases (if any) are large enough to matter. */
    static LlamaModel model(LlamaConfig cfg, Device device, Arena arena) {
        LlamaModel m = LlamaModel.random(cfg, 11, device, arena);
        SplittableRandom rng = new SplittableRandom(5);
        for (var e : m.namedTensors().entrySet()) {
            if (e.getKey().endsWith(".bias")) {
                e.getValue().copyFrom(Rand.floats(rng, (int) e.getValue().numel(), 0.5));
            }
        }
        return m;
    }

    static int[] prompt(int n, long seed) {
        SplittableRandom rng = new SplittableRandom(seed);
        int[] p = new int[n];
        for (int i = 0; i < n; i++) {
            p[i] = rng.nextInt(61);
        }
        return p;
    }

    /** The last row of the whole-sequence logits of {@code seq}. */
    static float[] uncachedLast(LlamaModel m, int[] seq) {
        try (NoGrad ignored = NoGrad.enter();
                MemoryScope scope = MemoryScope.open()) {
            float[] all =
                    m.logits(Tensor.ofInts(m.device(), seq, 1, seq.length)).toFloatArray();
            int v = m.config().vocabSize();
            return Arrays.copyOfRange(all, (seq.length - 1) * v, seq.length * v);
        }
    }

    static float[] cached(LlamaModel m, KvCache cache, int[][] step, int row) {
        try (MemoryScope scope = MemoryScope.open()) {
            float[] all = m.forwardCached(cache, step).toFloatArray();
            int v = m.config().vocabSize();
            return Arrays.copyOfRange(all, row * v, (row + 1) * v);
        }
    }

    static double maxDiff(float[] a, float[] b) {
        double d = 0;
        for (int i = 0; i < a.length; i++) {
            d = Math.max(d, Math.abs(a[i] - b[i]));
        }
        return d;
    }

    /**
     * Greedy decoding of {@code newTokens} after {@code prompt}, the prompt run in chunks of {@code chunk} tokens:
     * with the cache and without, token by token, and each step's logits.
     */
    static void assertCachedEqualsUncached(LlamaModel m, int[] prompt, int newTokens, int chunk, String what) {
        int[] seq = Arrays.copyOf(prompt, prompt.length + newTokens);
        int len = prompt.length;
        try (Arena arena = Arena.ofConfined()) {
            KvCache cache = m.newCache(arena, 1, prompt.length + newTokens);
            float[] logits = null;
            for (int at = 0; at < prompt.length; at += chunk) {
                logits = cached(
                        m, cache, new int[][] {Arrays.copyOfRange(prompt, at, Math.min(prompt.length, at + chunk))}, 0);
            }
            for (int k = 0; k < newTokens; k++) {
                float[] expected = uncachedLast(m, Arrays.copyOf(seq, len));
                double d = maxDiff(expected, logits);
                assertTrue(d < TOLERANCE, what + ": step " + k + " logits differ by " + d);
                int next = Sampler.argmax(logits, 0, logits.length);
                assertEquals(Sampler.argmax(expected, 0, expected.length), next, what + ": token of step " + k);
                seq[len++] = next;
                if (k + 1 < newTokens) {
                    logits = cached(m, cache, new int[][] {{next}}, 0);
                }
            }
            assertEquals(prompt.length + newTokens - 1, cache.length(0));
        }
    }

    @ParameterizedTest(name = "{1} on {0}")
    @MethodSource("models")
    void cachedGreedyDecodingEqualsTheWholeSequence(Device device, String what, LlamaConfig cfg) {
        try (Arena arena = Arena.ofConfined()) {
            LlamaModel m = model(cfg, device, arena);
            int n = device == Device.REFERENCE ? 6 : 12;
            assertCachedEqualsUncached(m, prompt(9, 1), n, 9, what);
            assertCachedEqualsUncached(m, prompt(1, 2), 4, 1, what + ", one-token prompt");
            assertCachedEqualsUncached(m, prompt(11, 3), 3, 4, what + ", prefill in chunks of 4");
        }
    }

    @ParameterizedTest(name = "{0} on {1}")
    @MethodSource("adapters")
    void adaptersApplyMergedOrNot(AdapterMethod method, Device device) {
        try (Arena arena = Arena.ofConfined()) {
            LlamaModel m = model(config(4, 2, 64, RopeScaling.NONE, true, 0), device, arena);
            float[] base = uncachedLast(m, prompt(8, 4));
            var peft = PeftModel.inject(m, AdapterConfig.of(method, 2, 4), arena);
            SplittableRandom rng = new SplittableRandom(3);
            for (AdaptedLinear a : peft.adapted().values()) {
                for (Tensor t : a.trainable()) {
                    t.copyFrom(Rand.floats(rng, (int) t.numel(), 0.5));
                }
            }
            peft.train(false);
            assertTrue(maxDiff(base, uncachedLast(m, prompt(8, 4))) > 1e-3, "the adapters change the logits");
            assertCachedEqualsUncached(m, prompt(8, 4), 5, 3, method + " unmerged");
            peft.mergeAll();
            assertCachedEqualsUncached(m, prompt(8, 4), 5, 8, method + " merged");
        }
    }

    static java.util.stream.Stream<Arguments> adapters() {
        return java.util.stream.Stream.of(
                Arguments.of(AdapterMethods.SBORA_FA, Device.CPU),
                Arguments.of(AdapterMethods.LORA, Device.CPU),
                Arguments.of(AdapterMethods.SBORA_FA, Device.REFERENCE),
                Arguments.of(AdapterMethods.LORA, Device.REFERENCE));
    }

    /** Dynamic NTK beyond the original context: a prefill of the whole sequence is the whole-sequence forward. */
    @Test
    void dynamicScalingBeyondTheOriginalContextPrefillsAsTheWholeSequence() {
        try (Arena arena = Arena.ofConfined()) {
            LlamaModel m = model(config(4, 2, 16, RopeScaling.dynamic(2, 16), false, 0), Device.CPU, arena);
            for (int n : new int[] {20, 31}) {
                int[] p = prompt(n, n);
                KvCache cache = m.newCache(arena, 1, n + 1);
                double d = maxDiff(uncachedLast(m, p), cached(m, cache, new int[][] {p}, 0));
                assertTrue(d < TOLERANCE, "prefill of " + n + ": " + d);
                // then one more token is rotated with the tables of n + 1 positions, the cached keys keep theirs
                float[] step = cached(m, cache, new int[][] {{3}}, 0);
                assertTrue(Float.isFinite(step[0]));
            }
        }
    }

    /** A batch of prompts of different lengths gives each the logits it has alone, at every step. */
    @ParameterizedTest
    @MethodSource("hostDevices")
    void aBatchOfDifferentLengthsEqualsEachPromptAlone(Device device) {
        try (Arena arena = Arena.ofConfined()) {
            LlamaModel m = model(config(4, 2, 64, RopeScaling.NONE, true, 0), device, arena);
            int[][] prompts = {prompt(5, 7), prompt(9, 8), prompt(1, 9)};
            KvCache batch = m.newCache(arena, 3, 14);
            KvCache[] alone = new KvCache[3];
            int[][] step = prompts.clone();
            for (int b = 0; b < 3; b++) {
                alone[b] = m.newCache(arena, 1, 14);
            }
            for (int k = 0; k < 4; k++) {
                try (MemoryScope scope = MemoryScope.open()) {
                    float[] all = m.forwardCached(batch, step).toFloatArray();
                    int v = m.config().vocabSize();
                    for (int b = 0; b < 3; b++) {
                        if (step[b].length == 0) {
                            continue;
                        }
                        float[] mine = Arrays.copyOfRange(all, b * v, (b + 1) * v);
                        float[] single = cached(m, alone[b], new int[][] {step[b]}, 0);
                        assertTrue(maxDiff(single, mine) < 1e-5, "sequence " + b + " step " + k);
                        // sequence 1 sits out step 2: the others go on without it
                        step[b] = b == 1 && k == 1 ? new int[0] : new int[] {Sampler.argmax(mine, 0, v)};
                    }
                    if (k == 2) {
                        step[1] = new int[] {5};
                    }
                }
            }
            assertArrayEquals(new int[] {5 + 3, 9 + 2, 1 + 3}, batch.lengths());
        }
    }

    static java.util.stream.Stream<Device> hostDevices() {
        return java.util.stream.Stream.of(Device.CPU, Device.REFERENCE);
    }

    /** Mistral: beyond the window a token attends only the last sliding_window keys, as the kernel's oracle says. */
    @Test
    void aCacheOutgrowsTheSlidingWindowWhichTheKernelsMask() {
        try (Arena arena = Arena.ofConfined()) {
            LlamaConfig cfg = config(4, 2, 64, RopeScaling.NONE, false, 4);
            LlamaModel cpu = model(cfg, Device.CPU, arena), ref = model(cfg, Device.REFERENCE, arena);
            int[] p = prompt(10, 12);
            KvCache a = cpu.newCache(arena, 1, 12), b = ref.newCache(arena, 1, 12);
            assertTrue(maxDiff(cached(ref, b, new int[][] {p}, 0), cached(cpu, a, new int[][] {p}, 0)) < 1e-5);
            assertTrue(maxDiff(cached(ref, b, new int[][] {{1}}, 0), cached(cpu, a, new int[][] {{1}}, 0)) < 1e-5);
            // within the window the cached forward is the whole-sequence one
            assertCachedEqualsUncached(cpu, prompt(3, 1), 1, 3, "within the window");
        }
    }

    /** The reference oracle itself: with nothing cached before, cached attention is causal attention. */
    @Test
    void referenceCachedAttentionWithNothingBeforeIsCausalAttention() {
        SplittableRandom rng = new SplittableRandom(1);
        AttentionShape s = new AttentionShape(2, 7, 4, 2, 6, 0.4f);
        Tensor q = Rand.tensor(rng, Device.REFERENCE, 14, 24), k = Rand.tensor(rng, Device.REFERENCE, 14, 12);
        Tensor v = Rand.tensor(rng, Device.REFERENCE, 14, 12);
        Tensor out = q.emptyLike(), lse = Tensor.zeros(Device.REFERENCE, 2 * 4 * 7), cachedOut = q.emptyLike();
        var be = Backends.of(Device.REFERENCE);
        be.attentionForward(q, k, v, s, out, lse);
        be.cachedAttention(q, k, v, Tensor.ofInts(Device.REFERENCE, new int[] {0, 0}, 2), s, 0, cachedOut);
        assertTrue(maxDiff(out.toFloatArray(), cachedOut.toFloatArray()) < 1e-6);
    }

    @Test
    void aFullCacheAndForeignTokensAreRefused() {
        try (Arena arena = Arena.ofConfined()) {
            LlamaModel m = model(PLAIN, Device.CPU, arena);
            KvCache cache = m.newCache(arena, 2, 4);
            IllegalArgumentException e = assertThrows(
                    IllegalArgumentException.class, () -> m.forwardCached(cache, new int[][] {{1, 2, 3, 4, 5}, {1}}));
            assertTrue(e.getMessage().contains("do not fit in a cache of 4"), e.getMessage());
            e = assertThrows(IllegalArgumentException.class, () -> m.forwardCached(cache, new int[][] {{1}}));
            assertTrue(e.getMessage().contains("1 sequences for a cache of 2"), e.getMessage());
            e = assertThrows(IllegalArgumentException.class, () -> m.forwardCached(cache, new int[][] {{}, {}}));
            assertTrue(e.getMessage().contains("no sequence has a new token"), e.getMessage());
            e = assertThrows(IllegalArgumentException.class, () -> m.forwardCached(cache, new int[][] {{61}, {1}}));
            assertTrue(e.getMessage().contains("outside the vocabulary"), e.getMessage());
            assertArrayEquals(new int[] {0, 0}, cache.lengths(), "a refused step leaves the cache as it was");
        }
    }
}
