package io.sbora4j.hf;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sbora4j.testing.FuzzCases;
import io.sbora4j.testing.Mutations;
import io.sbora4j.testing.TryTimeout;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicLong;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.lifecycle.AddLifecycleHook;
import net.jqwik.api.lifecycle.AfterContainer;
import net.jqwik.api.lifecycle.BeforeContainer;

/**
 * Fuzzing of tokenizer.json (and of the tokenizer_config.json beside it) through {@link HfTokenizer}, in this JVM:
 * the Rust library behind it aborts or overflows its stack on some input, which would end the test run, so every
 * case reaching it must have passed the checks in Java ({@code TokenizerJson}). Each case is loaded, then encodes
 * and decodes a few texts (and no ids); loading may only refuse with a one-line {@link IllegalArgumentException} or
 * {@link IOException}, and a loaded tokenizer encodes within its vocabulary. Tries: jqwik's default (1,000;
 * {@code -Pfuzz}: 100,000).
 *
 * <p>A native crash cannot be reported by jqwik (the JVM is gone), so every build tries the same cases (case i of
 * a fixed sequence), and {@code -Pfuzz} ({@code sbora.fuzz.explore}) draws new ones from jqwik's seed; the file of
 * the case being tried is kept in {@code target/tokenizer-fuzz/}, where a crash leaves it.
 */
@AddLifecycleHook(TryTimeout.class)
class HfTokenizerFuzz {

    private static final FuzzCases CASES =
            new FuzzCases("tokenizer.json", IllegalArgumentException.class, IOException.class);
    private static final String[] TEXTS = {
        "hello world",
        "",
        "héllo 日本 😀 \u0000 \uFFFD",
        "a".repeat(300),
        "  what is 2 + 3 ?  ",
        "\ud800 lone",
        "\uFF21\uFB01 e\u0301\u00e9\u200d\u0001 ab l" // what the built Precompiled maps have rules for
    };
    private static final String CONFIG = """
            {"bos_token": {"content": "<s>"}, "eos_token": "</s>", "pad_token": "<unk>", "model_max_length": 2048}
            """;

    private static final boolean EXPLORE = Boolean.getBoolean("sbora.fuzz.explore");
    private static final AtomicLong CASE = new AtomicLong();
    private static Path dir;

    @BeforeContainer
    static void dir() throws IOException {
        dir = Files.createDirectories(Path.of("target", "tokenizer-fuzz"));
    }

    @AfterContainer
    static void report() throws IOException {
        System.out.println(CASES.summary() + (EXPLORE ? " (explored)" : " (the fixed cases)"));
        Files.deleteIfExists(dir.resolve("tokenizer.json"));
        Files.deleteIfExists(dir.resolve("tokenizer_config.json"));
    }

    @Property
    void hostileTokenizersAreRefusedBeforeTheNativeLibrarySeesThem(@ForAll long seed) throws IOException {
        SplittableRandom rng =
                new SplittableRandom(EXPLORE ? seed : CASE.getAndIncrement() * 0x9E3779B97F4A7C15L + 1130);
        Path file = dir.resolve("tokenizer.json"), config = dir.resolve("tokenizer_config.json");
        Files.write(file, TokenizerMutations.next(rng));
        if (rng.nextInt(8) == 0) {
            Files.write(config, Mutations.mutate(CONFIG, rng));
        } else {
            Files.deleteIfExists(config);
        }
        try (HfTokenizer t = HfTokenizer.load(file)) {
            for (String text : TEXTS) {
                int[] ids = t.encode(text);
                for (int id : ids) {
                    assertTrue(id >= 0 && id < t.vocabSize(), "id " + id + " of " + t.vocabSize());
                }
                t.decode(ids);
            }
            t.decode(new int[] {0, 1, 2, -1, Integer.MAX_VALUE, t.vocabSize()});
            t.decode(new int[0]); // a Fuse hands a later Strip an empty string
            CASES.accepted();
        } catch (IllegalArgumentException | IOException e) {
            CASES.refused(e);
        }
    }
}
