package io.sbora4j.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.sbora4j.data.Generator.Options;
import io.sbora4j.data.Generator.Result;
import io.sbora4j.nn.LlamaConfig;
import io.sbora4j.nn.LlamaModel;
import io.sbora4j.tensor.Device;
import java.lang.foreign.Arena;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * {@link Generator#generate(List, List, Generator.Listener, Generator.Forward)}: a batch of unrelated requests, each
 * sequence with its own options, gives each what it gets alone, and every step goes through the forward hook.
 */
class GeneratorPerSequenceTest {

    private static final LlamaConfig CFG = new LlamaConfig(259, 32, 64, 2, 4, 2, 1e-6, 10000, 64, false);
    private static final ByteTokenizer TOK = new ByteTokenizer();

    private static Arena arena;
    private static LlamaModel model;

    @BeforeAll
    static void build() {
        arena = Arena.ofShared();
        model = LlamaModel.random(CFG, 5, Device.CPU, arena);
    }

    @AfterAll
    static void close() {
        arena.close();
    }

    private static int[] prompt(String s) {
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        int[] p = new int[b.length + 1];
        p[0] = TOK.bosId();
        for (int i = 0; i < b.length; i++) {
            p[i + 1] = b[i] & 0xff;
        }
        return p;
    }

    @Test
    void eachSequenceGetsWhatItGetsAloneWithItsOwnOptions() {
        Generator g = new Generator(model, TOK);
        List<int[]> prompts = List.of(prompt("one"), prompt("a much longer second"), prompt("3"));
        List<Options> options = List.of(
                Options.greedy(7, -1),
                new Options(11, new Sampler.Options(1f, 40, 0.9f, 42), new int[0], List.of()),
                new Options(2, new Sampler.Options(0.7f, 0, 1f, 9), new int[0], List.of("zz")));
        List<int[][]> steps = new ArrayList<>();
        List<Result> batch = g.generate(prompts, options, null, (cache, step) -> {
            steps.add(step.clone());
            return model.forwardCached(cache, step);
        });
        for (int b = 0; b < prompts.size(); b++) {
            // alone, a sequence's sampler is stream 0 of its seed: the same draws as in the batch
            Result alone = g.generate(prompts.get(b), options.get(b), null);
            assertArrayEquals(alone.tokens(), batch.get(b).tokens(), "sequence " + b);
            assertEquals(alone.text(), batch.get(b).text());
            assertEquals(alone.reason(), batch.get(b).reason());
        }
        assertEquals(11, batch.get(1).tokens().length);
        assertEquals(11, steps.size(), "the prefill, then one step per token but the last");
        assertEquals(prompts.get(1).length, steps.getFirst()[1].length);
        assertEquals(0, steps.getLast()[2].length, "a finished sequence takes no part");
    }

    @Test
    void optionsMustMatchThePrompts() {
        Generator g = new Generator(model, TOK);
        assertThrows(IllegalArgumentException.class, () -> g.generate(List.of(prompt("x")), List.of(), null, null));
    }
}
