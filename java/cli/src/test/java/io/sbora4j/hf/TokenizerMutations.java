package io.sbora4j.hf;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sbora4j.testing.Mutations;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.TreeMap;

/**
 * tokenizer.json inputs for fuzzing: the seeds in {@code src/test/resources/tokenizers} (LLaMA-2 BPE with byte
 * fallback, LLaMA-3 byte-level BPE, Unigram, WordPiece, WordLevel, Gemma, XLM-RoBERTa with the real nmt_nfkc
 * Precompiled map) and a Unigram one under a small built Precompiled map, damaged as bytes and text by
 * {@link Mutations}, or changed as a tree into files that are still JSON of the right shape but hostile in meaning:
 * components swapped for others, parameters out of range, patterns that are not regular expressions, tokens the
 * vocabulary lacks, odd added tokens, truncation and padding settings, Precompiled maps built from random rules and
 * then damaged (a byte, a unit, a leaf's offset, the trie size, the length, the base64), Strip decoders with stops
 * heading the chain or after it. The tree changes reach the native library; the byte changes test the checks in
 * front of it.
 */
public final class TokenizerMutations {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final JsonNodeFactory F = JsonNodeFactory.instance;
    private static final List<String> SEED_NAMES = List.of(
            "llama2-bpe.json",
            "llama3-bytelevel.json",
            "unigram.json",
            "wordpiece.json",
            "wordlevel.json",
            "gemma.json",
            "xlm-roberta.json",
            "unigram-precompiled");
    private static final List<byte[]> SEEDS = new ArrayList<>();

    /** Rules for built Precompiled maps: keys of one to five UTF-8 bytes (no NUL), and what they become. */
    private static final String[] RULE_KEYS = {
        "a", "A", "é", "e\u0301", "\uFB01", "\uFF21", "\u00A0", "\u200D", "\u0001", " ", "\uD83D\uDE00", "日", "ab", "l"
    };

    private static final String[] RULE_VALUES = {"", "a", " ", "fi", "é", "▁", "xyz", "A", "\u0000"};

    static {
        for (String n : SEED_NAMES) {
            if (n.equals("unigram-precompiled")) {
                continue;
            }
            SEEDS.add(CharsmapBuilder.fixture(n).getBytes(StandardCharsets.UTF_8));
        }
        try { // the Unigram seed under a small Precompiled map, as T5 and XLM-R have it: Sequence [Precompiled,
            // Replace]
            ObjectNode unigram = (ObjectNode) JSON.readTree(SEEDS.get(SEED_NAMES.indexOf("unigram.json")));
            ObjectNode seq = F.objectNode().put("type", "Sequence");
            seq.putArray("normalizers")
                    .add(F.objectNode()
                            .put("type", "Precompiled")
                            .put(
                                    "precompiled_charsmap",
                                    CharsmapBuilder.base64(
                                            Map.of("\uFF21", "A", "\uFB01", "fi", "\u0001", "", "e\u0301", "é"))))
                    .add(unigram.get("normalizer").get("normalizers").get(2));
            unigram.set("normalizer", seq);
            SEEDS.add(JSON.writeValueAsBytes(unigram));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
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
        "Precompiled",
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
        switch (rng.nextInt(14)) {
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
            case 12 -> { // a Precompiled map, alone or before the seed's normalizer
                JsonNode old = root.get("normalizer");
                ObjectNode p = precompiled(rng);
                if (old != null && old.isObject() && rng.nextBoolean()) {
                    ObjectNode seq = F.objectNode().put("type", "Sequence");
                    seq.putArray("normalizers").add(p).add(old);
                    root.set("normalizer", seq);
                } else {
                    root.set("normalizer", p);
                }
            }
            case 13 -> { // a Strip decoder with a stop: alone, heading the seed's decoder, or after it
                ObjectNode strip = F.objectNode()
                        .put("type", "Strip")
                        .put("content", pick(rng, new String[] {" ", "▁", "o", "l", "<", "x", "", "ab"}))
                        .put("start", rng.nextInt(4))
                        .put("stop", rng.nextInt(4));
                JsonNode old = root.get("decoder");
                if (old == null || !old.isObject() || rng.nextInt(3) == 0) {
                    root.set("decoder", strip);
                } else {
                    ObjectNode seq = F.objectNode().put("type", "Sequence");
                    ArrayNode parts = seq.putArray("decoders");
                    if (rng.nextBoolean()) {
                        parts.add(strip).add(old);
                    } else {
                        parts.add(old).add(strip);
                    }
                    root.set("decoder", seq);
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

    /** A Precompiled normalizer: a map built from random rules, then often damaged the ways a file can be. */
    static ObjectNode precompiled(SplittableRandom rng) {
        ObjectNode p = F.objectNode().put("type", "Precompiled");
        if (rng.nextInt(16) == 0) { // not a string, or missing
            if (rng.nextBoolean()) {
                p.set("precompiled_charsmap", value(rng));
            }
            return p;
        }
        byte[] map;
        if (rng.nextInt(16) == 0) {
            map = Base64.getDecoder().decode(CharsmapBuilder.nmtNfkc());
        } else {
            Map<String, String> rules = new TreeMap<>();
            for (int i = rng.nextInt(6); i >= 0; i--) {
                rules.put(pick(rng, RULE_KEYS), pick(rng, RULE_VALUES));
            }
            map = CharsmapBuilder.build(rules);
        }
        if (rng.nextBoolean()) {
            map = damage(map, rng);
        }
        String text = Base64.getEncoder().encodeToString(map);
        if (rng.nextInt(16) == 0) { // what Java's decoder reads but may not be canonical
            text = text.replace("=", "") + (rng.nextBoolean() ? "\n" : "");
        }
        return p.put("precompiled_charsmap", text);
    }

    /** The map with one thing wrong: a byte, a unit, a leaf's offset, the trie size, the length. */
    private static byte[] damage(byte[] map, SplittableRandom rng) {
        byte[] m = map.clone();
        ByteBuffer b = ByteBuffer.wrap(m).order(ByteOrder.LITTLE_ENDIAN);
        int units = m.length >= 4 ? (int) Math.min((m.length - 4) / 4, Integer.toUnsignedLong(b.getInt(0)) / 4) : 0;
        switch (rng.nextInt(6)) {
            case 0 -> { // a byte
                if (m.length > 0) {
                    m[rng.nextInt(m.length)] ^= (byte) (1 << rng.nextInt(8));
                }
            }
            case 1 -> { // a unit set to anything
                if (units > 0) {
                    b.putInt(4 + 4 * rng.nextInt(units), rng.nextInt());
                }
            }
            case 2 -> { // a leaf's offset into the normalized strings moved
                for (int i = 0; i < units; i++) {
                    if (b.getInt(4 + 4 * i) < 0) {
                        b.putInt(4 + 4 * i, 0x80000000 | rng.nextInt(m.length - 4 * units));
                        break;
                    }
                }
            }
            case 3 -> { // the trie size
                if (m.length >= 4) {
                    b.putInt(0, rng.nextBoolean() ? b.getInt(0) + 4 * (rng.nextInt(5) - 2) : rng.nextInt());
                }
            }
            case 4 -> m = Arrays.copyOf(m, rng.nextInt(m.length + 1)); // cut short
            default -> { // the normalized strings given a byte that is not UTF-8
                m = Arrays.copyOf(m, m.length + 1);
                m[m.length - 1] = (byte) (0x80 | rng.nextInt(0x80));
            }
        }
        return m;
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
