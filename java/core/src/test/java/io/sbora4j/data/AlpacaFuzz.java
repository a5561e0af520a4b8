package io.sbora4j.data;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sbora4j.testing.FuzzCases;
import io.sbora4j.testing.Mutations;
import io.sbora4j.testing.TryTimeout;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.SplittableRandom;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.lifecycle.AddLifecycleHook;
import net.jqwik.api.lifecycle.AfterContainer;
import net.jqwik.api.lifecycle.BeforeContainer;

/**
 * Fuzzing of Alpaca data, JSON arrays and JSON Lines: valid files damaged one to four times (bytes that are not
 * UTF-8, values of the wrong type, duplicated keys, deep nesting, huge strings and numbers, truncation), and now and
 * then a line past {@link AlpacaDataset#MAX_RECORD_CHARS}. Reading may only refuse with a one-line
 * {@link IllegalArgumentException} naming the file (or an {@link IOException}); what it accepts is examples with an
 * instruction. Tries: jqwik's default (1,000; {@code -Pfuzz}: 100,000).
 */
@AddLifecycleHook(TryTimeout.class)
class AlpacaFuzz {

    private static final FuzzCases CASES =
            new FuzzCases("alpaca json/jsonl", IllegalArgumentException.class, IOException.class);

    private static final List<String> SEEDS = List.of(
            """
            [
              {"instruction": "Add", "input": "2 3", "output": "The sum is 5", "answer": "5"},
              {"instruction": "Say hi", "output": "hi"},
              {"instruction": "Übersetze", "input": "", "output": "日本 😀", "answer": null}
            ]
            """,
            """
            {"instruction": "What is 1 + 1?", "output": "2"}

            {"instruction": "What is 2 + 2?", "input": "", "output": 4, "answer": "4"}
            {"instruction": "Tab\\tand\\u00e9", "input": "x", "output": "y"}
            """,
            "\uFEFF{\"instruction\": \"bom\", \"output\": \"ok\"}\r\n{\"instruction\": \"crlf\", \"output\": \"ok\"}\r\n");

    private static Path dir;

    @BeforeContainer
    static void dir() throws IOException {
        dir = Files.createTempDirectory("alpaca-fuzz");
    }

    @AfterContainer
    static void report() throws IOException {
        System.out.println(CASES.summary());
        Files.deleteIfExists(dir.resolve("data.json"));
        Files.delete(dir);
    }

    @Property
    void damagedDataIsRefusedCleanly(@ForAll long seed) throws IOException {
        SplittableRandom rng = new SplittableRandom(seed);
        Path file = dir.resolve("data.json");
        if (rng.nextInt(1000) == 0) { // a 16 MiB file: seldom (AlpacaDatasetTest has one of its own)
            hugeLine(file, rng);
        } else {
            Files.write(file, Mutations.mutate(SEEDS.get(rng.nextInt(SEEDS.size())), rng));
        }
        List<Example> examples;
        try {
            examples = AlpacaDataset.read(file);
        } catch (IllegalArgumentException e) {
            assertTrue(e.getMessage().startsWith(file.toString()), "names the file: " + e.getMessage());
            CASES.refused(e);
            return;
        } catch (IOException e) {
            CASES.refused(e);
            return;
        }
        assertFalse(examples.isEmpty());
        examples.forEach(x -> assertTrue(x.instruction() != null && x.output() != null));
        CASES.accepted();
    }

    /** A line of JSON Lines past the limit, written without holding it in memory twice. */
    private static void hugeLine(Path file, SplittableRandom rng) throws IOException {
        byte[] chunk = "aaaaaaaaaaaaaaaa".repeat(4096).getBytes(StandardCharsets.UTF_8);
        long chars = AlpacaDataset.MAX_RECORD_CHARS + 1 + rng.nextInt(1 << 16);
        try (OutputStream out = Files.newOutputStream(file)) {
            out.write("{\"instruction\": \"".getBytes(StandardCharsets.UTF_8));
            for (long written = 0; written < chars; written += chunk.length) {
                out.write(chunk);
            }
            out.write("\", \"output\": \"x\"}\n".getBytes(StandardCharsets.UTF_8));
        }
    }
}
