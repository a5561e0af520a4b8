package io.sbora4j.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sbora4j.autograd.NoGrad;
import io.sbora4j.data.Generator.Options;
import io.sbora4j.data.Generator.Result;
import io.sbora4j.data.Generator.StopReason;
import io.sbora4j.nn.LlamaConfig;
import io.sbora4j.nn.LlamaModel;
import io.sbora4j.tensor.Device;
import io.sbora4j.tensor.MemoryScope;
import io.sbora4j.tensor.Tensor;
import java.lang.foreign.Arena;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Sampling, stop conditions, batches and streaming of {@link Generator}, on a tiny random model and on a model
 * built to follow a fixed cycle of bytes (each token's successor), whose text is known in advance.
 */
class GeneratorTest {

    private static final LlamaConfig CFG = new LlamaConfig(259, 32, 64, 2, 4, 2, 1e-6, 10000, 64, false);
    private static final ByteTokenizer TOK = new ByteTokenizer();
    /** The cycle the bigram model follows: a, then é as two bytes, b, c, and a again. */
    private static final int[] CYCLE = {'a', 0xC3, 0xA9, 'b', 'c'};

    private static Arena arena;
    private static LlamaModel random;
    private static LlamaModel cycle;

    @BeforeAll
    static void build() {
        arena = Arena.ofShared();
        random = LlamaModel.random(CFG, 7, Device.CPU, arena);
        cycle = bigram(arena);
    }

    @AfterAll
    static void close() {
        arena.close();
    }

    /**
     * One layer whose blocks add nothing (o_proj and down_proj zero), one-hot embeddings and a head that maps each
     * token's embedding to its successor in {@link #CYCLE} (every other token to 'a'): greedy decoding walks the
     * cycle from any prompt's last token.
     */
    private static LlamaModel bigram(Arena arena) {
        int vocab = 259, hidden = 264;
        LlamaConfig cfg = new LlamaConfig(vocab, hidden, 8, 1, 4, 4, 1e-6, 10000, 64, false);
        Map<String, Tensor> w = new LinkedHashMap<>();
        for (var e : LlamaModel.expectedShapes(cfg).entrySet()) {
            int[] d = e.getValue();
            float[] v = new float[Arrays.stream(d).reduce(1, (x, y) -> x * y)];
            if (e.getKey().endsWith("norm.weight")) {
                Arrays.fill(v, 1f);
            } else if (e.getKey().equals("model.embed_tokens.weight")) {
                for (int i = 0; i < vocab; i++) {
                    v[i * hidden + i] = 1f;
                }
            } else if (e.getKey().equals("lm_head.weight")) {
                for (int i = 0; i < vocab; i++) {
                    v[successor(i) * hidden + i] = 1f;
                }
            }
            w.put(e.getKey(), Tensor.of(arena, Device.CPU, v, d));
        }
        return LlamaModel.of(cfg, w, Device.CPU, arena);
    }

    private static int successor(int token) {
        for (int i = 0; i < CYCLE.length; i++) {
            if (CYCLE[i] == token) {
                return CYCLE[(i + 1) % CYCLE.length];
            }
        }
        return 'a';
    }

    private static int[] prompt(String text) {
        int[] t = TOK.encode(text);
        int[] p = new int[t.length + 1];
        p[0] = TOK.bosId();
        System.arraycopy(t, 0, p, 1, t.length);
        return p;
    }

    private static Options sampling(int n, float temperature, int topK, float topP, long seed) {
        return new Options(n, new Sampler.Options(temperature, topK, topP, seed), new int[0], List.of());
    }

    /** Greedy decoding without a cache: the whole sequence every step. */
    private static int[] uncachedGreedy(LlamaModel m, int[] prompt, int n) {
        int[] seq = Arrays.copyOf(prompt, prompt.length + n);
        int v = m.config().vocabSize();
        try (NoGrad ignored = NoGrad.enter()) {
            for (int k = 0; k < n; k++) {
                int len = prompt.length + k;
                try (MemoryScope s = MemoryScope.open()) {
                    float[] all = m.logits(Tensor.ofInts(m.device(), Arrays.copyOf(seq, len), 1, len))
                            .toFloatArray();
                    seq[len] = Sampler.argmax(all, (len - 1) * v, v);
                }
            }
        }
        return Arrays.copyOfRange(seq, prompt.length, seq.length);
    }

    @Test
    void greedyWithTheCacheEqualsGreedyWithout() {
        int[] p = prompt("Q: 1 + 2\nA: ");
        assertArrayEquals(uncachedGreedy(random, p, 10), Generation.greedy(random, p, 10, -1));
    }

    @Test
    void theSameSeedGivesTheSameTokensAndAnotherSeedOthers() {
        int[] p = prompt("seed");
        Result a = new Generator(random, TOK).generate(p, sampling(16, 1f, 0, 1f, 42), null);
        Result b = new Generator(random, TOK).generate(p, sampling(16, 1f, 0, 1f, 42), null);
        Result c = new Generator(random, TOK).generate(p, sampling(16, 1f, 0, 1f, 43), null);
        assertArrayEquals(a.tokens(), b.tokens());
        assertEquals(a.text(), b.text());
        assertFalse(Arrays.equals(a.tokens(), c.tokens()), "another seed, other tokens");
        assertFalse(Arrays.equals(a.tokens(), Generation.greedy(random, p, 16, -1)), "sampling is not greedy");
        assertEquals(StopReason.MAX_NEW_TOKENS, a.reason());
    }

    @Test
    void topKOneAndATinyTopPAreGreedy() {
        int[] p = prompt("top");
        int[] greedy = Generation.greedy(random, p, 12, -1);
        assertArrayEquals(
                greedy,
                new Generator(random, null)
                        .generate(p, sampling(12, 1.5f, 1, 1f, 1), null)
                        .tokens());
        assertArrayEquals(
                greedy,
                new Generator(random, null)
                        .generate(p, sampling(12, 1.5f, 0, 1e-6f, 2), null)
                        .tokens());
        assertArrayEquals(
                greedy,
                new Generator(random, null)
                        .generate(p, sampling(12, 1.5f, 5, 1e-6f, 3), null)
                        .tokens());
    }

    @Test
    void topKLimitsTheDrawsToTheMostLikelyTokens() {
        float[] logits = {0f, 3f, 1f, 2.5f, -1f};
        Sampler s = new Sampler(new Sampler.Options(5f, 2, 1f, 9));
        boolean[] seen = new boolean[5];
        for (int i = 0; i < 400; i++) {
            seen[s.next(logits, 0, 5)] = true;
        }
        assertArrayEquals(new boolean[] {false, true, false, true, false}, seen);
        // top-p 0.6 over probabilities of about 0.53, 0.32, ...: the two most likely
        Sampler p = new Sampler(new Sampler.Options(1f, 0, 0.6f, 9));
        Arrays.fill(seen, false);
        for (int i = 0; i < 400; i++) {
            seen[p.next(logits, 0, 5)] = true;
        }
        assertArrayEquals(new boolean[] {false, true, false, true, false}, seen);
    }

    @Test
    void aBatchOfDifferentLengthsGivesEachPromptWhatItGetsAlone() {
        List<int[]> prompts = List.of(prompt("a"), prompt("a much longer prompt"), prompt("mid length"));
        Generator g = new Generator(random, TOK);
        int eos = Generation.greedy(random, prompts.get(2), 3, -1)[2]; // the third prompt stops early on it
        Options o = new Options(8, Sampler.Options.GREEDY, new int[] {eos}, List.of());
        List<Result> batch = g.generate(prompts, o, null);
        for (int b = 0; b < prompts.size(); b++) {
            Result alone = g.generate(prompts.get(b), o, null);
            assertArrayEquals(alone.tokens(), batch.get(b).tokens(), "prompt " + b);
            assertEquals(alone.reason(), batch.get(b).reason());
        }
        assertEquals(StopReason.STOP_TOKEN, batch.get(2).reason());
        assertEquals(2, batch.get(2).tokens().length);
    }

    @Test
    void theCycleModelWalksItsCycle() {
        Result r = new Generator(cycle, TOK).generate(TOK.encode("a"), Options.greedy(9, -1), null);
        assertEquals("ébcaébc", r.text());
        assertArrayEquals(new int[] {0xC3, 0xA9, 'b', 'c', 'a', 0xC3, 0xA9, 'b', 'c'}, r.tokens());
    }

    @Test
    void aStopStringSpanningTokensEndsTheTextBeforeIt() {
        List<String> pieces = new ArrayList<>();
        Options o = new Options(20, Sampler.Options.GREEDY, new int[0], List.of("zz", "ca"));
        Result r = new Generator(cycle, TOK).generate(TOK.encode("a"), o, (s, t, text) -> pieces.add(text));
        assertEquals("éb", r.text());
        assertEquals(StopReason.STOP_STRING, r.reason());
        assertArrayEquals(new int[] {0xC3, 0xA9, 'b', 'c', 'a'}, r.tokens());
        // the half of é and the c that may start "ca" are held back until they are settled
        assertEquals(List.of("", "é", "b", "", ""), pieces);
    }

    @Test
    void aStopStringThatNeverCompletesIsHandedOverAtTheEnd() {
        List<String> pieces = new ArrayList<>();
        Options o = new Options(4, Sampler.Options.GREEDY, new int[0], List.of("cx"));
        Result r = new Generator(cycle, TOK).generate(TOK.encode("a"), o, (s, t, text) -> pieces.add(t + ":" + text));
        assertEquals("ébc", r.text());
        assertEquals(StopReason.MAX_NEW_TOKENS, r.reason());
        assertEquals(List.of("195:", "169:é", "98:b", "99:", "-1:c"), pieces);
    }

    @Test
    void aStopTokenIsNotPartOfTheResult() {
        Options o = new Options(20, Sampler.Options.GREEDY, new int[] {'c'}, List.of());
        Result r = new Generator(cycle, TOK).generate(TOK.encode("xa"), o, null);
        assertEquals("éb", r.text());
        assertEquals(StopReason.STOP_TOKEN, r.reason());
        assertArrayEquals(new int[] {0xC3, 0xA9, 'b'}, r.tokens());
    }

    @Test
    void streamedPiecesAreTheTextAndNeverSplitACharacter() {
        List<String> prompts = List.of("a", "b", "é");
        List<StringBuilder> streamed = List.of(new StringBuilder(), new StringBuilder(), new StringBuilder());
        List<Result> rs = new Generator(cycle, TOK)
                .generate(prompts.stream().map(TOK::encode).toList(), Options.greedy(10, -1), (s, t, text) -> {
                    assertFalse(text.contains("\uFFFD"), "a piece with half a character: " + text);
                    streamed.get(s).append(text);
                });
        for (int b = 0; b < 3; b++) {
            assertEquals(rs.get(b).text(), streamed.get(b).toString());
            assertEquals(TOK.decode(rs.get(b).tokens()), rs.get(b).text());
            assertEquals(10, rs.get(b).tokens().length);
        }
        assertTrue(rs.get(2).text().startsWith("bcaé"), rs.get(2).text());
        assertArrayEquals("é".getBytes(StandardCharsets.UTF_8), new byte[] {(byte) 0xC3, (byte) 0xA9});
    }

    @Test
    void generationStopsAtTheModelsMaxPositions() {
        int[] p = new int[CFG.maxPositions() - 3];
        Arrays.fill(p, 'a');
        Result r = new Generator(random, null).generate(p, Options.greedy(10, -1), null);
        assertEquals(3, r.tokens().length);
        assertEquals(StopReason.MAX_POSITIONS, r.reason());
        assertNull(r.text());
    }

    @Test
    void badRequestsAreRefused() {
        Generator g = new Generator(random, null);
        assertEquals(
                "stop strings need a tokenizer",
                assertThrows(
                                IllegalArgumentException.class,
                                () -> g.generate(
                                        prompt("x"),
                                        new Options(3, Sampler.Options.GREEDY, new int[0], List.of("s")),
                                        null))
                        .getMessage());
        assertThrows(IllegalArgumentException.class, () -> g.generate(new int[0], Options.greedy(3, -1), null));
        assertThrows(IllegalArgumentException.class, () -> new Sampler.Options(-1, 0, 1, 0));
        assertThrows(IllegalArgumentException.class, () -> new Sampler.Options(1, -1, 1, 0));
        assertThrows(IllegalArgumentException.class, () -> new Sampler.Options(1, 0, 0, 0));
        assertThrows(IllegalArgumentException.class, () -> new Sampler.Options(1, 0, 1.5f, 0));
        assertThrows(
                IllegalArgumentException.class, () -> new Options(3, Sampler.Options.GREEDY, new int[0], List.of("")));
    }
}
