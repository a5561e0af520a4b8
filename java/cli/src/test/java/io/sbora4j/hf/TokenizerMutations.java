package io.sbora4j.hf;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sbora4j.testing.Mutations;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * tokenizer.json inputs for fuzzing: the seeds in {@code src/test/resources/tokenizers} (LLaMA-2 BPE with byte
 * fallback, LLaMA-3 byte-level BPE, Unigram, WordPiece, WordLevel), damaged as bytes and text by
 * {@link Mutations}, or changed as a tree into files that are still JSON of the right shape but hostile in meaning:
 * components swapped for others, parameters out of range, patterns that are not regular expressions, tokens the
 * vocabulary lacks, odd added tokens, truncation and padding settings. The tree changes reach the native library;
 * the byte changes test the checks in front of it.
 */
public final class TokenizerMutations {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final JsonNodeFactory F = JsonNodeFactory.instance;
    private static final List<String> SEED_NAMES =
            List.of("llama2-bpe.json", "llama3-bytelevel.json", "unigram.json", "wordpiece.json", "wordlevel.json");
    private static final List<byte[]> SEEDS = new ArrayList<>();

    static {
        for (String n : SEED_NAMES) {
            try (InputStream in = TokenizerMutations.class.getResourceAsStream("/tokenizers/" + n)) {
                SEEDS.add(in.readAllBytes());
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    }

    private static final String[] PATTERNS = {
        "",
        "(",
        "[",
        "\\",
        "(?<",
        "a{99999}",
        "(a+)+$",
        "\\p{L}+",
        "\\s+",
        " ",
        "▁",
        "(?i:'s)",
        "\\p{Xx}",
        "[^",
        "(?=a)",
        "\\1",
        ".*",
        "\\z",
        "(?<x>a)",
        "\\u{110000}",
        "x{2,1}"
    };
    private static final String[] NORMALIZERS = {
        "Prepend",
        "Replace",
        "NFC",
        "NFD",
        "NFKC",
        "NFKD",
        "Lowercase",
        "Strip",
        "StripAccents",
        "BertNormalizer",
        "Nmt",
        "ByteLevel",
        "Sequence"
    };
    private static final String[] PRE_TOKENIZERS = {
        "Split",
        "ByteLevel",
        "Metaspace",
        "Whitespace",
        "WhitespaceSplit",
        "BertPreTokenizer",
        "Punctuation",
        "Digits",
        "UnicodeScripts",
        "CharDelimiterSplit",
        "Sequence"
    };
    private static final String[] DECODERS = {
        "Replace",
        "ByteFallback",
        "Fuse",
        "Strip",
        "ByteLevel",
        "Metaspace",
        "WordPiece",
        "BPEDecoder",
        "CTC",
        "Sequence"
    };
    private static final String[] POST_PROCESSORS = {
        "TemplateProcessing", "ByteLevel", "BertProcessing", "RobertaProcessing", "Sequence"
    };
    private static final String[] STRINGS = {
        "",
        " ",
        "▁",
        "<unk>",
        "<s>",
        "</s>",
        "##",
        "Ġ",
        "\u0000",
        "\ud83d\ude00",
        "é",
        "  ",
        "a b",
        "\n",
        "[UNK]",
        "<0x00>",
        "<0xZZ>",
        "x".repeat(1000)
    };
    private static final long[] NUMBERS = {0, 1, -1, 2, 7, 100, 4096, Integer.MAX_VALUE, -2147483648L, 1L << 32};

    private TokenizerMutations() {}

    /** The file of case {@code rng}: half damaged bytes and text, half a hostile tree. */
    public static byte[] next(SplittableRandom rng) {
        byte[] seed = SEEDS.get(rng.nextInt(SEEDS.size()));
        if (rng.nextBoolean()) {
            return Mutations.mutate(seed, rng);
        }
        try {
            ObjectNode root = (ObjectNode) JSON.readTree(seed);
            int n = 1 + rng.nextInt(3);
            for (int i = 0; i < n; i++) {
                tree(root, rng);
            }
            return JSON.writeValueAsString(root).getBytes(StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static void tree(ObjectNode root, SplittableRandom rng) {
        // an earlier change may have removed the model or made it another kind of value
        ObjectNode model = root.get("model") instanceof ObjectNode m ? m : root.putObject("model");
        switch (rng.nextInt(12)) {
            case 0 -> root.set("normalizer", component(rng, NORMALIZERS, "normalizers"));
            case 1 -> root.set("pre_tokenizer", component(rng, PRE_TOKENIZERS, "pretokenizers"));
            case 2 -> root.set("decoder", component(rng, DECODERS, "decoders"));
            case 3 -> root.set("post_processor", component(rng, POST_PROCESSORS, "processors"));
            case 4 -> { // a model parameter changed
                String[] keys = {
                    "unk_token",
                    "dropout",
                    "byte_fallback",
                    "fuse_unk",
                    "continuing_subword_prefix",
                    "end_of_word_suffix",
                    "max_input_chars_per_word",
                    "unk_id",
                    "ignore_merges"
                };
                model.set(keys[rng.nextInt(keys.length)], value(rng));
            }
            case 5 -> { // merges of tokens the vocabulary may lack
                ArrayNode merges = model.putArray("merges");
                for (int i = rng.nextInt(6); i > 0; i--) {
                    merges.add(pick(rng, STRINGS) + " " + pick(rng, STRINGS));
                }
            }
            case 6 -> { // an added token
                ArrayNode added = root.withArray("added_tokens");
                ObjectNode t = added.addObject();
                t.put("id", rng.nextInt(40));
                t.put("content", pick(rng, STRINGS).isEmpty() ? "x" : pick(rng, STRINGS));
                for (String flag : new String[] {"single_word", "lstrip", "rstrip", "normalized", "special"}) {
                    t.put(flag, rng.nextBoolean());
                }
            }
            case 7 -> root.set(rng.nextBoolean() ? "truncation" : "padding", settings(rng));
            case 8 -> { // a vocabulary entry changed or added
                JsonNode vocab = model.get("vocab");
                if (vocab instanceof ObjectNode o) {
                    o.put(pick(rng, STRINGS), rng.nextInt(64));
                } else if (vocab instanceof ArrayNode a) {
                    a.addArray().add(pick(rng, STRINGS)).add(rng.nextBoolean() ? -rng.nextDouble() * 20 : 0.0);
                }
            }
            case 9 -> model.put("type", pick(rng, new String[] {"BPE", "WordPiece", "WordLevel", "Unigram"}));
            case 10 -> { // the seed's own components, nested in a Sequence
                String[][] kinds = {
                    {"normalizer", "normalizers"}, {"pre_tokenizer", "pretokenizers"}, {"decoder", "decoders"}
                };
                String[] k = kinds[rng.nextInt(kinds.length)];
                JsonNode inner = root.get(k[0]);
                if (inner != null && !inner.isNull()) {
                    ObjectNode seq = F.objectNode().put("type", "Sequence");
                    seq.putArray(k[1]).add(inner).add(inner.deepCopy());
                    root.set(k[0], seq);
                }
            }
            default -> root.remove(pick(rng, new String[] {"normalizer", "pre_tokenizer", "decoder", "model"}));
        }
    }

    private static ObjectNode component(SplittableRandom rng, String[] types, String sequenceKey) {
        ObjectNode c = F.objectNode();
        String type = pick(rng, types);
        c.put("type", type);
        if (type.equals("Sequence")) {
            ArrayNode parts = c.putArray(sequenceKey);
            for (int i = rng.nextInt(3); i > 0; i--) {
                parts.add(component(rng, types, sequenceKey));
            }
            return c;
        }
        String[] params = {
            "pattern",
            "content",
            "prepend",
            "replacement",
            "add_prefix_space",
            "trim_offsets",
            "use_regex",
            "prepend_scheme",
            "split",
            "behavior",
            "invert",
            "individual_digits",
            "delimiter",
            "start",
            "stop",
            "prefix",
            "cleanup",
            "lowercase",
            "strip_accents",
            "clean_text",
            "handle_chinese_chars",
            "left",
            "right",
            "suffix",
            "pad_token",
            "word_delimiter_token",
            "cls",
            "sep",
            "single",
            "pair",
            "special_tokens"
        };
        for (int i = rng.nextInt(5); i > 0; i--) {
            String p = pick(rng, params);
            c.set(
                    p,
                    p.equals("pattern")
                            ? F.objectNode().put(rng.nextBoolean() ? "Regex" : "String", pick(rng, PATTERNS))
                            : value(rng));
        }
        return c;
    }

    private static JsonNode settings(SplittableRandom rng) {
        ObjectNode s = F.objectNode();
        String[] keys = {
            "max_length", "stride", "strategy", "direction", "pad_id", "pad_token", "pad_type_id", "pad_to_multiple_of"
        };
        for (int i = rng.nextInt(5); i > 0; i--) {
            s.set(pick(rng, keys), value(rng));
        }
        return rng.nextInt(4) == 0 ? F.nullNode() : s;
    }

    private static JsonNode value(SplittableRandom rng) {
        return switch (rng.nextInt(6)) {
            case 0 -> F.textNode(pick(rng, STRINGS));
            case 1 -> F.numberNode(NUMBERS[rng.nextInt(NUMBERS.length)]);
            case 2 -> F.booleanNode(rng.nextBoolean());
            case 3 -> F.nullNode();
            case 4 -> F.numberNode(rng.nextDouble() * 4 - 2);
            default -> F.arrayNode().add(pick(rng, STRINGS));
        };
    }

    private static String pick(SplittableRandom rng, String[] from) {
        return from[rng.nextInt(from.length)];
    }

    /** The seed files by name, for tests that start from a valid tokenizer. */
    public static Map<String, byte[]> seeds() {
        Map<String, byte[]> m = new LinkedHashMap<>();
        for (int i = 0; i < SEED_NAMES.size(); i++) {
            m.put(SEED_NAMES.get(i), SEEDS.get(i));
        }
        return m;
    }
}
