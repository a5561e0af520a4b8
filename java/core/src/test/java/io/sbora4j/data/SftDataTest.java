package io.sbora4j.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sbora4j.tensor.Device;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

class SftDataTest {

    private static final ByteTokenizer TOK = new ByteTokenizer();
    private static final PromptTemplate T = PromptTemplate.PLAIN;

    private static List<Example> numbered(int n) {
        List<Example> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            out.add(Example.of("item " + i, "answer " + i));
        }
        return out;
    }

    @Test
    void promptTargetsAreIgnoredResponseTargetsAreTheNextTokenAndEosIsLast() {
        Example e = Example.of("What is 2 + 3?", "5 ok");
        int[] prompt = TOK.encode(T.prompt(e)), response = TOK.encode(e.output());
        SftData.Sequence s = SftData.encode(e, TOK, T, 1000);
        int p = prompt.length, len = 1 + p + response.length;
        assertEquals(len, s.length());
        assertEquals(len, s.targets().length);
        assertEquals(ByteTokenizer.BOS, s.inputs()[0]);
        for (int t = 0; t < len; t++) {
            if (t < p) {
                assertEquals(SftData.IGNORE, s.targets()[t], "prompt position " + t);
            } else if (t < p + response.length) {
                assertEquals(response[t - p], s.targets()[t], "response position " + t);
            }
            if (t + 1 < len) {
                assertEquals(t < p ? prompt[t] : s.targets()[t], s.inputs()[t + 1], "target is the next input");
            }
        }
        assertEquals(ByteTokenizer.EOS, s.targets()[len - 1], "EOS is the last target");
        assertEquals(response.length + 1, s.supervised());
        assertArrayEquals(prompt, Arrays.copyOfRange(s.inputs(), 1, 1 + p));
    }

    /** A tokenizer without BOS (Qwen2's): bytes, as {@link ByteTokenizer}, and nothing before a sequence. */
    private static final Tokenizer NO_BOS = new Tokenizer() {
        @Override
        public int[] encode(String text) {
            return TOK.encode(text);
        }

        @Override
        public String decode(int[] ids) {
            return TOK.decode(ids);
        }

        @Override
        public int vocabSize() {
            return TOK.vocabSize();
        }

        @Override
        public int bosId() {
            return -1;
        }

        @Override
        public int eosId() {
            return TOK.eosId();
        }

        @Override
        public int padId() {
            return TOK.padId();
        }
    };

    @Test
    void withoutBosTheSequenceStartsWithThePromptAndTheSameTokensAreSupervised() {
        Example e = Example.of("What is 2 + 3?", "5 ok");
        int[] prompt = TOK.encode(T.prompt(e)), response = TOK.encode(e.output());
        SftData.Sequence withBos = SftData.encode(e, TOK, T, 1000);
        SftData.Sequence s = SftData.encode(e, NO_BOS, T, 1000);
        assertEquals(withBos.length() - 1, s.length());
        assertEquals(prompt[0], s.inputs()[0]);
        assertArrayEquals(Arrays.copyOfRange(withBos.inputs(), 1, withBos.length()), s.inputs());
        assertArrayEquals(Arrays.copyOfRange(withBos.targets(), 1, withBos.length()), s.targets());
        assertEquals(response.length + 1, s.supervised());
        assertEquals(SftData.IGNORE, s.targets()[prompt.length - 2], "the last prompt target is ignored");
        assertEquals(response[0], s.targets()[prompt.length - 1], "the prompt's last token predicts the response");
    }

    @Test
    void anEmptyResponseStillSupervisesEos() {
        SftData.Sequence s = SftData.encode(Example.of("q", ""), TOK, T, 100);
        assertEquals(1, s.supervised());
        assertEquals(ByteTokenizer.EOS, s.targets()[s.length() - 1]);
    }

    @Test
    void truncationCutsInputsAndTargetsToMaxLenAsAPrefix() {
        Example e = Example.of("What is 2 + 3?", "the answer is five");
        SftData.Sequence full = SftData.encode(e, TOK, T, 1000);
        int p = TOK.encode(T.prompt(e)).length;
        for (int maxLen : new int[] {p + 1, p + 3, full.length() - 1, full.length(), full.length() + 5}) {
            SftData.Sequence s = SftData.encode(e, TOK, T, maxLen);
            int n = Math.min(maxLen, full.length());
            assertEquals(n, s.length(), "maxLen " + maxLen);
            assertArrayEquals(Arrays.copyOf(full.inputs(), n), s.inputs());
            assertArrayEquals(Arrays.copyOf(full.targets(), n), s.targets());
        }
        SftData.Sequence cut = SftData.encode(e, TOK, T, p + 1);
        assertEquals(1, cut.supervised(), "the first response token is the only supervised target");
        assertNotEquals(ByteTokenizer.EOS, cut.targets()[cut.length() - 1]);
    }

    @Test
    void anExampleWhoseResponseFallsBeyondMaxLenIsDropped() {
        Example shortOne = Example.of("a", "1");
        Example longOne = Example.of("a much longer question here", "2");
        int maxLen = TOK.encode(T.prompt(longOne)).length; // every target of longOne is still prompt
        assertEquals(0, SftData.encode(longOne, TOK, T, maxLen).supervised());
        SftData data = new SftData(List.of(shortOne, longOne, shortOne), TOK, T, maxLen, 1);
        assertEquals(2, data.size());
        for (SftData.Sequence s : data.sequences()) {
            assertTrue(s.supervised() > 0);
        }
    }

    @Test
    void aSetWhereEveryExampleIsDroppedIsAnError() {
        Example longOne = Example.of("a much longer question here", "2");
        int maxLen = TOK.encode(T.prompt(longOne)).length;
        IllegalArgumentException e = assertThrows(
                IllegalArgumentException.class, () -> new SftData(List.of(longOne, longOne), TOK, T, maxLen, 1));
        assertTrue(e.getMessage().contains(Integer.toString(maxLen)), e.getMessage());
    }

    private static int[][] rows(SftData.Batch b) {
        int rows = b.ids().dim(0), len = b.ids().dim(1);
        int[] ids = b.ids().toIntArray();
        int[][] out = new int[rows][];
        for (int i = 0; i < rows; i++) {
            out[i] = Arrays.copyOfRange(ids, i * len, (i + 1) * len);
        }
        return out;
    }

    @Test
    void batchIsAPureFunctionOfSeedStepAndMicroBatch() {
        SftData a = new SftData(numbered(7), TOK, T, 64, 11);
        SftData b = new SftData(numbered(7), TOK, T, 64, 11);
        // b is asked in another order, across epochs, so nothing may depend on what was asked before
        int[][][] fromB = new int[6][][];
        for (int k = 5; k >= 0; k--) {
            fromB[k] = rows(b.batch(k / 2, k % 2, 2, 3, Device.CPU));
        }
        for (int k = 0; k < 6; k++) {
            SftData.Batch x = a.batch(k / 2, k % 2, 2, 3, Device.CPU);
            assertArrayEquals(fromB[k], rows(x), "step " + k / 2 + " micro " + k % 2);
            SftData.Batch y = b.batch(k / 2, k % 2, 2, 3, Device.CPU);
            assertArrayEquals(x.targets().toIntArray(), y.targets().toIntArray());
        }
    }

    @Test
    void anotherSeedGivesAnotherOrder() {
        SftData a = new SftData(numbered(8), TOK, T, 64, 1);
        SftData b = new SftData(numbered(8), TOK, T, 64, 2);
        List<String> orderA = new ArrayList<>(), orderB = new ArrayList<>();
        for (int step = 0; step < 4; step++) {
            for (int[] row : rows(a.batch(step, 0, 1, 2, Device.CPU))) {
                orderA.add(TOK.decode(row));
            }
            for (int[] row : rows(b.batch(step, 0, 1, 2, Device.CPU))) {
                orderB.add(TOK.decode(row));
            }
        }
        assertNotEquals(orderA, orderB);
    }

    @Test
    void everyExampleAppearsOncePerEpoch() {
        int n = 5;
        SftData data = new SftData(numbered(n), TOK, T, 64, 3);
        List<String> seen = new ArrayList<>();
        // batch 2, accumulation 3: 6 sequences per step, so epochs straddle steps and micro-batches
        for (int step = 0; step < 5; step++) {
            for (int micro = 0; micro < 3; micro++) {
                for (int[] row : rows(data.batch(step, micro, 3, 2, Device.CPU))) {
                    seen.add(TOK.decode(row));
                }
            }
        }
        assertEquals(30, seen.size());
        Set<String> all = new HashSet<>();
        for (int epoch = 0; epoch < 6; epoch++) {
            Set<String> inEpoch = new HashSet<>(seen.subList(epoch * n, (epoch + 1) * n));
            assertEquals(n, inEpoch.size(), "epoch " + epoch + ": " + seen.subList(epoch * n, (epoch + 1) * n));
            all.addAll(inEpoch);
        }
        assertEquals(n, all.size());
        assertNotEquals(seen.subList(0, n), seen.subList(n, 2 * n), "each epoch is reshuffled");
    }

    @Test
    void padFillsIdsWithPadIdAndTargetsWithIgnore() {
        SftData.Sequence a = new SftData.Sequence(new int[] {1, 2, 3}, new int[] {SftData.IGNORE, 3, 4});
        SftData.Sequence b = new SftData.Sequence(new int[] {5}, new int[] {6});
        SftData.Batch batch = SftData.pad(List.of(a, b), 99, Device.CPU);
        assertArrayEquals(new int[] {2, 3}, batch.ids().shape().dims());
        assertArrayEquals(new int[] {6}, batch.targets().shape().dims());
        assertArrayEquals(new int[] {1, 2, 3, 5, 99, 99}, batch.ids().toIntArray());
        assertArrayEquals(
                new int[] {SftData.IGNORE, 3, 4, 6, SftData.IGNORE, SftData.IGNORE},
                batch.targets().toIntArray());
        assertEquals(4, batch.tokens(), "real tokens, not padding");
    }

    @Test
    void batchPadsWithTheTokenizersPadId() {
        SftData data = new SftData(List.of(Example.of("a", "1"), Example.of("a longer one", "22")), TOK, T, 64, 0);
        SftData.Batch b = data.batch(0, 0, 1, 2, Device.CPU);
        int[] ids = b.ids().toIntArray(), targets = b.targets().toIntArray();
        int len = b.ids().dim(1);
        int shortLen = SftData.encode(Example.of("a", "1"), TOK, T, 64).length();
        int shortRow = ids[shortLen] == ByteTokenizer.PAD ? 0 : 1;
        for (int t = shortLen; t < len; t++) {
            assertEquals(ByteTokenizer.PAD, ids[shortRow * len + t]);
            assertEquals(SftData.IGNORE, targets[shortRow * len + t]);
        }
    }

    @Test
    void maxLenBelowTwoIsRejected() {
        assertThrows(IllegalArgumentException.class, () -> new SftData(numbered(2), TOK, T, 1, 0));
    }
}
