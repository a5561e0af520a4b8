package io.sbora4j.hf;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * tokenizer.json files of the families the library is used with, each a tiny vocabulary under the normalizer,
 * pre-tokenizer, post-processor and decoder exactly as the family publishes them (the SentencePiece ones with the
 * real nmt_nfkc map), load through the checks and encode and decode in the native library as derived by hand.
 */
class TokenizerFamiliesTest {

    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;

    private HfTokenizer load(String fixture, String config) throws Exception {
        Files.writeString(dir.resolve("tokenizer.json"), CharsmapBuilder.fixture(fixture));
        if (config != null) {
            Files.writeString(dir.resolve("tokenizer_config.json"), config);
        }
        return HfTokenizer.load(dir);
    }

    @Test
    void t5WithItsPrecompiledMap() throws Exception {
        // T5 has no BOS: its decoder starts from <pad>
        try (HfTokenizer t = load("t5.json", "{\"bos_token\": \"<pad>\", \"eos_token\": \"</s>\"}")) {
            assertArrayEquals(new int[] {4, 5, 6}, t.encode("hello world fi"));
            // nmt_nfkc: full-width letters and the ligature fi are folded, extra spaces dropped
            assertArrayEquals(new int[] {4, 5, 6}, t.encode("ｈｅｌｌｏ   world \uFB01"));
            assertEquals("hello world fi", t.decode(new int[] {4, 5, 6}));
            assertArrayEquals(new int[] {4, 16}, t.encode("hello<extra_id_0>"));
            assertEquals(1, t.eosId());
        }
    }

    @Test
    void xlmRobertaAsPublished() throws Exception {
        try (HfTokenizer t = load("xlm-roberta.json", null)) {
            assertArrayEquals(new int[] {5, 6}, t.encode("Hello world"));
            assertArrayEquals(new int[] {5, 6}, t.encode("Ｈｅｌｌｏ\u3000world")); // ideographic space: a space
            assertEquals("Hello world", t.decode(new int[] {0, 5, 6, 2}));
            assertEquals(0, t.bosId());
            assertEquals(2, t.eosId());
        }
    }

    @Test
    void albertWithPrecompiledInItsSequence() throws Exception {
        try (HfTokenizer t = load("albert.json", "{\"bos_token\": \"[CLS]\", \"eos_token\": \"[SEP]\"}")) {
            // `` and '' to ", accents stripped, lower case, then the map, then runs of spaces to one
            assertArrayEquals(new int[] {6, 7, 8, 9}, t.encode("Héllo  ``World''"));
            assertEquals("hello \"world\"", t.decode(new int[] {2, 6, 7, 8, 9, 3}));
        }
    }

    @Test
    void gemma() throws Exception {
        try (HfTokenizer t = load("gemma.json", null)) {
            assertArrayEquals(new int[] {17, 22}, t.encode("hello world"));
            assertArrayEquals(new int[] {17, 6, 4, 5}, t.encode("hello é")); // é by byte fallback
            assertEquals("hello world", t.decode(new int[] {2, 17, 22}));
            assertEquals("hello é", t.decode(new int[] {17, 6, 4, 5}));
            assertEquals(2, t.bosId());
            assertEquals(1, t.eosId());
        }
    }

    @Test
    void qwen2() throws Exception {
        // Qwen2 has no BOS: its config says so, and nothing is put before a sequence
        try (HfTokenizer t = load("qwen2.json", "{\"bos_token\": null, \"eos_token\": \"<|im_end|>\"}")) {
            assertEquals(-1, t.bosId());
            assertArrayEquals(new int[] {11, 16, 4, 17, 18}, t.encode("hello world é"));
            assertEquals("hello world é", t.decode(new int[] {11, 16, 4, 17, 18}));
            assertArrayEquals(new int[] {20, 11, 21}, t.encode("<|im_start|>hello<|im_end|>"));
        }
        Files.delete(dir.resolve("tokenizer_config.json"));
        try (HfTokenizer t = load("qwen2.json", null)) { // no config, and no usual BOS among the added tokens
            assertEquals(-1, t.bosId());
        }
        IllegalArgumentException named =
                assertThrows(IllegalArgumentException.class, () -> load("qwen2.json", "{\"bos_token\": \"<nope>\"}"));
        assertTrue(named.getMessage().contains("no BOS token"), named.getMessage());
    }

    @Test
    void bert() throws Exception {
        try (HfTokenizer t = load("bert.json", "{\"bos_token\": \"[CLS]\", \"eos_token\": \"[SEP]\"}")) {
            assertArrayEquals(new int[] {5, 6, 7, 8, 9}, t.encode("Hello, World!"));
            assertEquals("hello, world!", t.decode(new int[] {2, 5, 6, 7, 8, 9, 3}));
        }
    }

    @Test
    void llama3WithItsTemplatePostProcessor() throws Exception {
        ObjectNode root = (ObjectNode) JSON.readTree(TokenizerMutations.seeds().get("llama3-bytelevel.json"));
        ObjectNode post = JSON.createObjectNode().put("type", "Sequence");
        post.putArray("processors")
                .add(
                        JSON.readTree(
                                "{\"type\": \"ByteLevel\", \"add_prefix_space\": true, \"trim_offsets\": false, \"use_regex\": true}"))
                .add(JSON.readTree("{\"type\": \"TemplateProcessing\", \"single\": [{\"SpecialToken\": {\"id\":"
                        + " \"<|begin_of_text|>\", \"type_id\": 0}}, {\"Sequence\": {\"id\": \"A\", \"type_id\": 0}}],"
                        + " \"pair\": [{\"Sequence\": {\"id\": \"A\", \"type_id\": 0}}], \"special_tokens\":"
                        + " {\"<|begin_of_text|>\": {\"id\": \"<|begin_of_text|>\", \"ids\": [" + beginOfText(root)
                        + "], \"tokens\": [\"<|begin_of_text|>\"]}}}"));
        root.set("post_processor", post);
        Files.writeString(dir.resolve("tokenizer.json"), JSON.writeValueAsString(root));
        try (HfTokenizer t = HfTokenizer.load(dir)) {
            int[] ids = t.encode("hello world");
            assertTrue(ids.length > 0);
            assertEquals("hello world", t.decode(ids));
        }
    }

    private static int beginOfText(ObjectNode root) {
        for (var t : (ArrayNode) root.get("added_tokens")) {
            if (t.get("content").asText().equals("<|begin_of_text|>")) {
                return t.get("id").asInt();
            }
        }
        throw new AssertionError("no <|begin_of_text|>");
    }

    /** A Strip decoder's stop: 0 as published; above 0 where it heads the chain and can empty no token. */
    @Test
    void stripWithAStop() throws Exception {
        String llama2 = new String(TokenizerMutations.seeds().get("llama2-bpe.json"), StandardCharsets.UTF_8);
        Path f = dir.resolve("tokenizer.json");
        // heading the chain: start 1 and stop 1 would cut the token "o" from both ends (a panic); start 0 would not
        String stripL = "{\"type\": \"Strip\", \"content\": \"o\", \"start\": 1, \"stop\": 1}";
        Files.writeString(f, llama2.replace("\"decoders\": [", "\"decoders\": [" + stripL + ", "));
        IllegalArgumentException onlyO = assertThrows(IllegalArgumentException.class, () -> HfTokenizer.load(f));
        assertTrue(onlyO.getMessage().contains("\"o\""), onlyO.getMessage());
        Files.writeString(f, llama2.replace("\"decoders\": [", "\"decoders\": [" + stripL.replace("1,", "0,") + ", "));
        try (HfTokenizer t = HfTokenizer.load(f)) {
            assertEquals("hell world", t.decode(t.encode("hello world"))); // "▁hello" loses its last o
            assertEquals("", t.decode(new int[] {12})); // "o", stripped whole: fine, the cuts meet
        }
        String stripW = "{\"type\": \"Strip\", \"content\": \"x\", \"start\": 2, \"stop\": 3}";
        Files.writeString(f, llama2.replace("\"decoders\": [", "\"decoders\": [" + stripW + ", "));
        try (HfTokenizer t = HfTokenizer.load(f)) {
            assertEquals("hello world", t.decode(t.encode("hello world")));
            assertEquals("", t.decode(new int[0]));
        }
        // after Fuse, which hands it "" when nothing is decoded: refused
        Files.writeString(f, llama2.replace("\"stop\": 0", "\"stop\": 1"));
        IllegalArgumentException afterFuse = assertThrows(IllegalArgumentException.class, () -> HfTokenizer.load(f));
        assertTrue(afterFuse.getMessage().contains("after another decoder"), afterFuse.getMessage());
        assertEquals(1, afterFuse.getMessage().lines().count());
    }

    /** Normalized added tokens under a Precompiled map: kept where the map leaves an ASCII letter alone. */
    @Test
    void normalizedAddedTokensUnderAPrecompiledMap() throws Exception {
        ObjectNode t5 = (ObjectNode) JSON.readTree(CharsmapBuilder.fixture("t5.json"));
        ((ObjectNode) t5.get("added_tokens").get(3)).put("normalized", true); // <extra_id_0>
        Path f = dir.resolve("tokenizer.json");
        Files.writeString(dir.resolve("tokenizer_config.json"), "{\"bos_token\": \"<pad>\"}");
        Files.writeString(f, JSON.writeValueAsString(t5));
        try (HfTokenizer t = HfTokenizer.load(f)) {
            assertEquals(17, t.vocabSize());
        }
        // a map that deletes every lower-case letter and digit (what a damaged map may do): the token could
        // normalize to nothing
        Map<String, String> deleteLetters = new TreeMap<>();
        for (char c = '0'; c <= 'z'; c++) {
            if (Character.isLowerCase(c) || Character.isDigit(c)) {
                deleteLetters.put(String.valueOf(c), "");
            }
        }
        ((ObjectNode) t5.get("normalizer")).put("precompiled_charsmap", CharsmapBuilder.base64(deleteLetters));
        Files.writeString(f, JSON.writeValueAsString(t5));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> HfTokenizer.load(f));
        assertTrue(e.getMessage().contains("Precompiled normalizer leaves as it is"), e.getMessage());
        assertEquals(1, e.getMessage().lines().count());
        // not normalized: taken
        ((ObjectNode) t5.get("added_tokens").get(3)).put("normalized", false);
        Files.writeString(f, JSON.writeValueAsString(t5));
        try (HfTokenizer t = HfTokenizer.load(f)) {
            int[] ids = t.encode("hello<extra_id_0>"); // "hello" deleted
            assertEquals(16, ids[ids.length - 1]);
        }
    }
}
