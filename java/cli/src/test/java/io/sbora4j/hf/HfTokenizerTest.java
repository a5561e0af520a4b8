package io.sbora4j.hf;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** tokenizer.json files load offline through the Rust library the DJL jar carries. */
class HfTokenizerTest {

    @TempDir
    Path dir;

    private static final String WORD_LEVEL = """
            {"version": "1.0", "truncation": null, "padding": null,
             "added_tokens": [
               {"id": 0, "content": "<unk>", "single_word": false, "lstrip": false, "rstrip": false, "normalized": false, "special": true},
               {"id": 1, "content": "<s>", "single_word": false, "lstrip": false, "rstrip": false, "normalized": false, "special": true},
               {"id": 2, "content": "</s>", "single_word": false, "lstrip": false, "rstrip": false, "normalized": false, "special": true}],
             "normalizer": null, "pre_tokenizer": {"type": "Whitespace"}, "post_processor": null,
             "decoder": null,
             "model": {"type": "WordLevel", "vocab": {"<unk>": 0, "<s>": 1, "</s>": 2, "what": 3, "is": 4, "2": 5,
                       "+": 6, "3": 7, "?": 8}, "unk_token": "<unk>"}}
            """;

    @Test
    void encodesDecodesAndFindsTheSpecialTokens() throws Exception {
        Path f = dir.resolve("tokenizer.json");
        Files.writeString(f, WORD_LEVEL);
        try (HfTokenizer t = HfTokenizer.load(dir)) {
            assertArrayEquals(new int[] {3, 4, 5, 6, 7, 8}, t.encode("what is 2 + 3 ?"));
            assertArrayEquals(new int[] {3, 0}, t.encode("what zebra"));
            assertEquals("what is 2", t.decode(new int[] {3, 4, 5}));
            assertEquals(9, t.vocabSize());
            assertEquals(1, t.bosId());
            assertEquals(2, t.eosId());
            assertEquals(2, t.padId(), "no pad token: EOS pads");
        }
    }

    @Test
    void tokenizerConfigNamesTheSpecialTokens() throws Exception {
        Files.writeString(dir.resolve("tokenizer.json"), WORD_LEVEL);
        Files.writeString(
                dir.resolve("tokenizer_config.json"),
                "{\"bos_token\": {\"content\": \"</s>\"}, \"eos_token\": \"<s>\", \"pad_token\": \"<unk>\"}");
        try (HfTokenizer t = HfTokenizer.load(dir.resolve("tokenizer.json"))) {
            assertEquals(2, t.bosId());
            assertEquals(1, t.eosId());
            assertEquals(0, t.padId());
        }
    }

    @Test
    void aLongTextIsEncodedWhole() throws Exception {
        // DJL truncates to 512 tokens unless told not to: a training text of 2,000 words lost three quarters
        Files.writeString(dir.resolve("tokenizer.json"), WORD_LEVEL);
        try (HfTokenizer t = HfTokenizer.load(dir)) {
            assertEquals(2000, t.encode("what is ".repeat(1000)).length);
        }
    }

    /**
     * Files on which the native library aborts the JVM or overflows its stack, found by fuzzing
     * ({@link HfTokenizerFuzz}): refused in Java, one line naming the file. Each would end this test run if it got
     * through.
     */
    @Test
    void inputsThatCrashTheNativeLibraryAreRefusedFirst() throws Exception {
        Path f = dir.resolve("tokenizer.json");
        String deep = "[".repeat(200) + "]".repeat(200);
        String[][] cases = {
            // a value under "decoder" that serde_json cannot read: .expect("Helper") aborts
            {
                WORD_LEVEL.replace("\"decoder\": null", "\"decoder\": {\"type\": \"Fuse\", \"x\": " + deep + "}"),
                "nesting depth"
            },
            // a compiled character map that is not one: .expect("Precompiled") aborts
            {
                WORD_LEVEL.replace(
                        "\"normalizer\": null",
                        "\"normalizer\": {\"type\": \"Precompiled\", \"precompiled_charsmap\": \"AAAA\"}"),
                "Precompiled"
            },
            // a token of a few hundred thousand characters overflows the library's stack (SIGSEGV); longer than a
            // real token is refused
            {WORD_LEVEL.replace("\"what\": 3", "\"" + "é".repeat(5000) + "\": 3"), "5000 characters"},
            // an added token of 500,000 spaces: minutes of native work
            {WORD_LEVEL.replace("\"content\": \"<unk>\"", "\"content\": \"" + " ".repeat(500_000) + "\""), "500000"},
            // a normalized added token that normalizes to nothing: the library slices inside a character, aborts
            {
                WORD_LEVEL
                        .replace("\"normalizer\": null", "\"normalizer\": {\"type\": \"Nmt\"}")
                        .replace(
                                "\"content\": \"<unk>\", \"single_word\": false, \"lstrip\": false, \"rstrip\": false, \"normalized\": false",
                                "\"content\": \"\\u0000\", \"single_word\": false, \"lstrip\": false, \"rstrip\": true, \"normalized\": true"),
                "no letter or digit"
            },
            // a Strip decoder with a stop after Fuse, which hands it "" when no id is decoded: the library indexes
            // before its start and aborts
            {
                WORD_LEVEL.replace(
                        "\"decoder\": null",
                        "\"decoder\": {\"type\": \"Sequence\", \"decoders\": [{\"type\": \"Fuse\"},"
                                + " {\"type\": \"Strip\", \"content\": \" \", \"start\": 1, \"stop\": 8}]}"),
                "stop"
            },
            // one that would strip a token made only of its content from both ends: the cuts cross, a panic
            {
                WORD_LEVEL.replace(
                        "\"decoder\": null",
                        "\"decoder\": {\"type\": \"Strip\", \"content\": \"?\", \"start\": 1, \"stop\": 1}"),
                "\"?\""
            },
            // a Precompiled map whose trie a text's first byte sends past its end: the library aborts encoding
            {
                WORD_LEVEL.replace(
                        "\"normalizer\": null",
                        "\"normalizer\": {\"type\": \"Precompiled\", \"precompiled_charsmap\": \"BAAAAAAAAAA=\"}"),
                "past its trie"
            },
            // what Java's parser takes and serde_json refuses, under "decoder": the library aborts
            {
                WORD_LEVEL.replace(
                        "\"decoder\": null",
                        "\"decoder\": {\"type\": \"Strip\", \"content\": \"\\ud800\", \"start\": 1, \"stop\": 0}"),
                "surrogate"
            },
            {
                WORD_LEVEL.replace(
                        "\"decoder\": null",
                        "\"decoder\": {\"type\": \"Strip\", \"content\": \" \", \"start\": 1e400, \"stop\": 0}"),
                "out of range"
            },
            {WORD_LEVEL.replace("\"WordLevel\"", "\"Magic\""), "Magic"},
            {WORD_LEVEL.replace("\"is\": 4", "\"is\": 4, \"is\": 5"), "Duplicate"},
            {WORD_LEVEL.replace("\"is\": 4", "\"is\": 3"), "id 3"},
            {WORD_LEVEL.replace("\"is\": 4", "\"is\": 2147483647"), "2147483647"},
            {WORD_LEVEL.replace("\"Whitespace\"", "\"Whitespace\", \"pattern\": 7"), "pattern"},
        };
        for (String[] c : cases) {
            Files.writeString(f, c[0]);
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> HfTokenizer.load(f));
            assertTrue(e.getMessage().startsWith(f.toString()), e.getMessage());
            assertTrue(e.getMessage().contains(c[1]), c[1] + " in: " + e.getMessage());
            assertEquals(1, e.getMessage().lines().count(), e.getMessage());
        }
        // a BPE merge without the continuing_subword_prefix: the library slices past its end and aborts
        String bpe = new String(TokenizerMutations.seeds().get("llama2-bpe.json"), StandardCharsets.UTF_8);
        Files.writeString(
                f, bpe.replace("\"continuing_subword_prefix\": null", "\"continuing_subword_prefix\": \"##\""));
        IllegalArgumentException m = assertThrows(IllegalArgumentException.class, () -> HfTokenizer.load(f));
        assertTrue(m.getMessage().contains("continuing_subword_prefix"), m.getMessage());
        for (var seed : TokenizerMutations.seeds().entrySet()) { // the seeds themselves load and round-trip
            Files.write(f, seed.getValue());
            try (HfTokenizer t = HfTokenizer.load(f)) {
                assertTrue(t.encode("hello world").length > 0, seed.getKey());
            }
        }
        Files.write(f, new byte[] {'{', (byte) 0xC0, (byte) 0x80, '}'});
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> HfTokenizer.load(f));
        assertTrue(e.getMessage().contains("UTF-8"), e.getMessage());
    }

    @Test
    void aMissingOrBrokenFileIsAClearError() throws Exception {
        assertThrows(IOException.class, () -> HfTokenizer.load(dir));
        Files.writeString(dir.resolve("tokenizer.json"), "{not json");
        assertThrows(IllegalArgumentException.class, () -> HfTokenizer.load(dir));
    }
}
