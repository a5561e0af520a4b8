package io.sbora4j.hf;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.IOException;
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
    void aMissingOrBrokenFileIsAClearError() throws Exception {
        assertThrows(IOException.class, () -> HfTokenizer.load(dir));
        Files.writeString(dir.resolve("tokenizer.json"), "{not json");
        assertThrows(IllegalArgumentException.class, () -> HfTokenizer.load(dir));
    }
}
