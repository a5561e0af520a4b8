package io.sbora4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sbora4j.data.ByteTokenizer;
import io.sbora4j.data.Generation;
import io.sbora4j.io.LoadOptions;
import io.sbora4j.io.ModelFiles;
import io.sbora4j.nn.LlamaConfig;
import io.sbora4j.nn.LlamaModel;
import io.sbora4j.tensor.Device;
import io.sbora4j.tensor.Tensor;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code sbora generate} on a tiny random model and on one whose greedy text is known: a byte cycle (a, the two
 * bytes of é, b, c, then a again) that each token's successor follows.
 */
class GenerateCommandTest {

    private static final LlamaConfig CFG = new LlamaConfig(259, 32, 64, 2, 4, 2, 1e-6, 10000, 64, false);
    private static final int[] CYCLE = {'a', 0xC3, 0xA9, 'b', 'c'};
    private static final ByteTokenizer TOK = new ByteTokenizer();

    @TempDir
    static Path tmp;

    static Path random, cycle;

    @BeforeAll
    static void setUp() throws IOException {
        random = tmp.resolve("random");
        cycle = tmp.resolve("cycle");
        try (Arena arena = Arena.ofConfined()) {
            ModelFiles.save(LlamaModel.random(CFG, 1, Device.CPU, arena), random);
            ModelFiles.save(bigram(arena), cycle);
        }
    }

    /** One layer that adds nothing, one-hot embeddings and a head mapping each byte to its successor. */
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
                    int next = 'a';
                    for (int c = 0; c < CYCLE.length; c++) {
                        if (CYCLE[c] == i) {
                            next = CYCLE[(c + 1) % CYCLE.length];
                        }
                    }
                    v[next * hidden + i] = 1f;
                }
            }
            w.put(e.getKey(), Tensor.of(arena, Device.CPU, v, d));
        }
        return LlamaModel.of(cfg, w, Device.CPU, arena);
    }

    static CliEndToEndTest.Result run(String... args) {
        return CliEndToEndTest.run(args);
    }

    static String[] args(Path model, String... extra) {
        List<String> a = new ArrayList<>(List.of("generate", "--model", model.toString(), "--tokenizer", "byte"));
        a.addAll(List.of(extra));
        return a.toArray(String[]::new);
    }

    private static void assertOneLineError(CliEndToEndTest.Result r, String... parts) {
        assertNotEquals(0, r.code(), r.out());
        assertEquals(1, r.err().strip().lines().count(), "one line on stderr:\n" + r.err());
        for (String p : parts) {
            assertTrue(r.err().contains(p), "'" + p + "' in: " + r.err());
        }
    }

    private static String greedy(String prompt, int n) throws IOException {
        try (Arena arena = Arena.ofConfined()) {
            LlamaModel m = ModelFiles.load(random, LoadOptions.on(Device.CPU), arena);
            int[] t = TOK.encode(prompt);
            int[] p = new int[t.length + 1];
            p[0] = TOK.bosId();
            System.arraycopy(t, 0, p, 1, t.length);
            return TOK.decode(Generation.greedy(m, p, n, TOK.eosId()));
        }
    }

    @Test
    void greedyTextIsPrintedAfterThePrompt() throws IOException {
        CliEndToEndTest.Result r = run(args(random, "--prompt", "Q: 1 + 2", "--max-new-tokens", "8"));
        assertEquals(0, r.code(), r.err());
        assertEquals(greedy("Q: 1 + 2", 8) + "\n", r.out());
    }

    @Test
    void aFileIsOneBatchPrintedInItsOrder() throws IOException {
        Path f = Files.writeString(tmp.resolve("prompts.txt"), "first\n\na much longer second prompt\nthird\n");
        CliEndToEndTest.Result r = run(args(random, "--file", f.toString(), "--max-new-tokens", "6"));
        assertEquals(0, r.code(), r.err());
        assertEquals(
                greedy("first", 6) + "\n" + greedy("a much longer second prompt", 6) + "\n" + greedy("third", 6) + "\n",
                r.out());
    }

    @Test
    void samplingWithASeedIsReproducible() {
        String[] a = args(
                random,
                "--prompt",
                "x",
                "--temperature",
                "1.0",
                "--top-k",
                "50",
                "--top-p",
                "0.9",
                "--seed",
                "7",
                "--max-new-tokens",
                "12");
        CliEndToEndTest.Result one = run(a), two = run(a);
        assertEquals(0, one.code(), one.err());
        assertEquals(one.out(), two.out());
    }

    @Test
    void theTextStopsBeforeAStopStringSpanningTokens() {
        CliEndToEndTest.Result all = run(args(cycle, "--prompt", "a", "--max-new-tokens", "9"));
        assertEquals(0, all.code(), all.err());
        assertEquals("ébcaébc\n", all.out());
        CliEndToEndTest.Result stop = run(args(cycle, "--prompt", "a", "--stop", "xyz", "--stop", "ca"));
        assertEquals(0, stop.code(), stop.err());
        assertEquals("éb\n", stop.out());
    }

    @Test
    void chatRendersThePromptAsAUserMessage() throws IOException {
        Path dir = tmp.resolve("chat");
        try (var files = Files.list(cycle)) {
            Files.createDirectories(dir);
            for (Path p : files.toList()) {
                Files.copy(p, dir.resolve(p.getFileName()));
            }
        }
        // the rendered text ends with the message: "<s>[b]" ends in ']', whose successor is 'a'
        Files.writeString(
                dir.resolve("tokenizer_config.json"),
                "{\"bos_token\": \"<s>\", \"chat_template\": \"{{ bos_token }}{% for m in messages %}[{{ m['content']"
                        + " }}]{% endfor %}\"}");
        CliEndToEndTest.Result r = run(args(dir, "--chat", "--prompt", "b", "--max-new-tokens", "4"));
        assertEquals(0, r.code(), r.err());
        assertEquals("aéb\n", r.out());
        assertOneLineError(run(args(cycle, "--chat", "--prompt", "b")), "--chat: the model has no chat template");
    }

    @Test
    void badInputIsOneLineError() throws IOException {
        assertOneLineError(run(args(random)), "--prompt", "--file");
        assertOneLineError(run(args(random, "--prompt", "a", "--file", "x.txt")), "mutually exclusive");
        assertOneLineError(run(args(random, "--prompt", "a", "--temperature", "-1")), "--temperature must be");
        assertOneLineError(run(args(random, "--prompt", "a", "--temperature", "1", "--top-p", "2")), "--top-p");
        assertOneLineError(run(args(random, "--prompt", "a", "--top-k", "5")), "need --temperature above 0");
        assertOneLineError(run(args(random, "--prompt", "a", "--max-new-tokens", "-3")), "--max-new-tokens");
        assertOneLineError(run(args(random, "--prompt", "")), "--prompt is empty");
        assertOneLineError(run(args(random, "--file", tmp.resolve("none.txt").toString())), "does not exist");
        Path empty = Files.writeString(tmp.resolve("empty.txt"), "\n  \n");
        assertOneLineError(run(args(random, "--file", empty.toString())), "holds no prompt");
        assertOneLineError(run(args(random, "--prompt", "a", "--stop", "")), "stop string must not be empty");
    }
}
