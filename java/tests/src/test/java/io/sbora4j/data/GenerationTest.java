package io.sbora4j.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.sbora4j.nn.LlamaConfig;
import io.sbora4j.nn.LlamaModel;
import io.sbora4j.tensor.Device;
import java.lang.foreign.Arena;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Greedy decoding and evaluation on a tiny random model. */
class GenerationTest {

    private static final LlamaConfig CFG = new LlamaConfig(259, 32, 64, 2, 4, 2, 1e-6, 10000, 64, false);
    private static final ByteTokenizer TOK = new ByteTokenizer();
    private static Arena arena;
    private static LlamaModel model;

    @BeforeAll
    static void build() {
        arena = Arena.ofShared();
        model = LlamaModel.random(CFG, 7, Device.CPU, arena);
    }

    @AfterAll
    static void close() {
        arena.close();
    }

    private static int[] prompt(String text) {
        int[] t = TOK.encode(text);
        int[] p = new int[t.length + 1];
        p[0] = TOK.bosId();
        System.arraycopy(t, 0, p, 1, t.length);
        return p;
    }

    @Test
    void greedyIsDeterministicAndFillsTheBudgetWithoutEos() {
        int[] p = prompt("Q: 1 + 2\nA: ");
        int[] a = Generation.greedy(model, p, 6, -1);
        int[] b = Generation.greedy(model, p, 6, -1);
        assertEquals(6, a.length);
        assertArrayEquals(a, b);
        for (int id : a) {
            assertTrue(id >= 0 && id < CFG.vocabSize(), "token " + id);
        }
        assertArrayEquals(Arrays.copyOf(a, 3), Generation.greedy(model, p, 3, -1), "a shorter budget is a prefix");
    }

    @Test
    void greedyStopsBeforeEos() {
        int[] p = prompt("Q: 1 + 2\nA: ");
        int[] free = Generation.greedy(model, p, 6, -1);
        int k = 0;
        while (k < free.length - 1 && indexOf(free, free[k]) != k) {
            k++;
        }
        // treat the first token that occurs first at position k as EOS: generation stops right before it
        int eos = free[k];
        k = indexOf(free, eos);
        assertArrayEquals(Arrays.copyOf(free, k), Generation.greedy(model, p, 6, eos));
        assertEquals(0, Generation.greedy(model, p, 6, free[0]).length, "EOS first: nothing generated");
    }

    private static int indexOf(int[] a, int v) {
        for (int i = 0; i < a.length; i++) {
            if (a[i] == v) {
                return i;
            }
        }
        return -1;
    }

    @Test
    void greedyStopsAtTheModelsMaxPositions() {
        int[] p = new int[CFG.maxPositions() - 2];
        Arrays.fill(p, 'a');
        assertEquals(2, Generation.greedy(model, p, 10, -1).length);
    }

    @Test
    void evaluationScoresEveryExampleWithExactMatch() {
        List<Example> examples = new ArrayList<>();
        for (int i = 0; i < 12; i++) {
            examples.add(Example.of("What is " + i + " + 1?", Integer.toString(i + 1)));
        }
        List<String> progress = new ArrayList<>();
        Evaluation.Result r = Evaluation.run(model, TOK, PromptTemplate.PLAIN, examples, 3, progress::add);
        assertEquals(12, r.answers().size());
        assertEquals(List.of("evaluated 10/12"), progress);
        for (int i = 0; i < 12; i++) {
            Evaluation.Answer a = r.answers().get(i);
            assertEquals(examples.get(i), a.example());
            assertEquals(ExactMatch.correct(a.generated(), a.example().answer()), a.correct());
            int[] expected = Generation.greedy(model, prompt(PromptTemplate.PLAIN.prompt(a.example())), 3, TOK.eosId());
            assertEquals(TOK.decode(expected), a.generated(), "the greedy answer after BOS + prompt");
        }
        assertEquals(r.correct() / 12.0, r.accuracy());
        assertEquals(ExactMatch.describe(r.correct(), 12), r.toString());
    }

    @Test
    void evaluationCountsAnAnswerTheModelGivesAsCorrect() {
        Example probe = Example.of("Say something", "x");
        String said = TOK.decode(Generation.greedy(model, prompt(PromptTemplate.PLAIN.prompt(probe)), 4, TOK.eosId()));
        assumeTrue(!said.isBlank() && ExactMatch.lastNumber(said) == null, "needs a plain-text answer: " + said);
        Evaluation.Result r = Evaluation.run(
                model,
                TOK,
                PromptTemplate.PLAIN,
                List.of(new Example("Say something", "", "x", said.strip())),
                4,
                null);
        assertEquals(1, r.correct(), "generated '" + said + "'");
        assertEquals(1.0, r.accuracy());
    }

    @Test
    void anEmptySetHasAccuracyZero() {
        Evaluation.Result r = Evaluation.run(model, TOK, PromptTemplate.PLAIN, List.of(), 3, null);
        assertEquals(0, r.accuracy());
        assertEquals("0/0 = 0.0%", r.toString());
    }
}
