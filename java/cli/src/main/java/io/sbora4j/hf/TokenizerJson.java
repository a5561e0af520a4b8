package io.sbora4j.hf;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The checks a {@code tokenizer.json} passes in Java before the Rust tokenizers library (through DJL) sees it.
 *
 * <p>The Rust library aborts the process instead of reporting an error on some input, and an abort cannot be caught:
 * a malformed or too deeply nested value under {@code decoder} ({@code .expect("Helper")}), a {@code Precompiled}
 * normalizer whose compiled character map it cannot read ({@code .expect("Precompiled")}) or whose trie or offsets
 * point outside it (indexed, then sliced, on every text), a token of a few hundred thousand characters (a stack
 * overflow, SIGSEGV), a normalized added token that normalizes to nothing (an empty pattern matches inside a
 * character, and a string is sliced off a character boundary), a BPE merge without the model's
 * {@code continuing_subword_prefix} (sliced past its end), a {@code Strip} decoder whose {@code start + stop}
 * exceeds a token made only of its {@code content} (indexed before its start), an escaped lone surrogate or a number
 * past f64's range under {@code decoder} (which serde_json refuses: {@code .expect("Helper")}). So the file must be
 * strict JSON (UTF-8, no duplicated key, nothing after the value, nesting at most {@value #MAX_DEPTH} deep, strings
 * and keys at most {@value #MAX_TOKEN_CHARS} characters but for a {@code precompiled_charsmap}) of a known shape: a
 * model of type BPE, WordPiece, WordLevel or Unigram with its vocabulary (ids in [0, 2^31 - 1), unique; Unigram
 * scores finite), added tokens with an id and a content, and normalizers, pre-tokenizers, post-processors and
 * decoders of the types the tokenizers library defines (those LLaMA, Mistral, Gemma, Phi-3, Qwen2, BERT, T5,
 * XLM-RoBERTa and ALBERT publish), recursively through {@code Sequence}, with these limits: a {@code Precompiled}
 * map must be canonical base64 that the library parses and whose every lookup stays inside it (see
 * {@link PrecompiledCharsmap}: the check replays the library's reads for every UTF-8 key of up to 5 bytes), none
 * rewritten to over a kilobyte; a
 * {@code Replace} normalizer must not delete; a {@code Strip} decoder with a {@code stop} above 0 must head the
 * decoder chain (after another decoder it may be handed an empty token) and no token may be made only of its
 * {@code content} with fewer characters than {@code start + stop} (the published {@code "stop": 0} is always
 * taken); no unpaired surrogate, no number out of f64's range. A normalized added token must hold a letter or a
 * digit (with a Precompiled normalizer: an ASCII one between ASCII characters that the map leaves as it is), and
 * with a {@code continuing_subword_prefix} every BPE merge's second part must start with it. Everything else is
 * refused by name. A refusal is an {@link IllegalArgumentException} of one line naming the file and the value.
 * (The failures named were found by fuzzing tokenizers 0.21.4, the version DJL 0.38 carries, and read off its
 * source.)
 */
final class TokenizerJson {

    /** The largest tokenizer.json read (a 128k-token vocabulary with its merges is about 10 MB). */
    static final long MAX_BYTES = 256L << 20;

    /** Nesting limit: a real file nests about 8 deep; serde_json gives up (and the library aborts) at 128. */
    static final int MAX_DEPTH = 32;

    /** The longest string the parser reads at all (memory). */
    static final int MAX_STRING = 1 << 20;

    /**
     * The longest string or key the native tokenizer is given (a token, a pattern, a name): a real one is under a
     * hundred characters, and the library's tries recurse per character, so a token of a few hundred thousand
     * overflows the stack (SIGSEGV) and one of added spaces keeps it busy for minutes.
     */
    static final int MAX_TOKEN_CHARS = 1024;

    private static final ObjectMapper JSON = JsonMapper.builder(JsonFactory.builder()
                    .streamReadConstraints(StreamReadConstraints.builder()
                            .maxNestingDepth(MAX_DEPTH)
                            .maxStringLength(MAX_STRING)
                            .maxNumberLength(64)
                            .build())
                    .build())
            .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .build();

    private static final Set<String> MODELS = Set.of("BPE", "WordPiece", "WordLevel", "Unigram");
    private static final Set<String> NORMALIZERS = Set.of(
            "Sequence",
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
            "Precompiled",
            "ByteLevel");
    private static final Set<String> PRE_TOKENIZERS = Set.of(
            "Sequence",
            "Split",
            "ByteLevel",
            "Metaspace",
            "Whitespace",
            "WhitespaceSplit",
            "BertPreTokenizer",
            "Punctuation",
            "Digits",
            "UnicodeScripts",
            "CharDelimiterSplit");
    private static final Set<String> POST_PROCESSORS =
            Set.of("Sequence", "TemplateProcessing", "ByteLevel", "BertProcessing", "RobertaProcessing");
    private static final Set<String> DECODERS = Set.of(
            "Sequence",
            "Replace",
            "ByteFallback",
            "Fuse",
            "Strip",
            "ByteLevel",
            "Metaspace",
            "WordPiece",
            "BPEDecoder",
            "CTC");

    /** A checked file: its text, the added tokens by content, and the vocabulary's size (the largest id + 1). */
    record Checked(String text, Map<String, Integer> addedTokens, int vocabSize) {}

    /**
     * What the checks of one component need from the others: the Precompiled maps read so far, and every string a
     * decoder can be handed first (the vocabulary's tokens and the added tokens).
     */
    private record Context(List<PrecompiledCharsmap> charsmaps, List<String> tokens) {}

    private TokenizerJson() {}

    /**
     * Reads and checks {@code file}.
     *
     * @throws IllegalArgumentException naming the file, if it is too large, not UTF-8, or not a tokenizer.json this
     *                                  library lets the native tokenizer read
     */
    static Checked read(Path file) throws IOException {
        String text = readText(file, MAX_BYTES);
        try {
            return check(text);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(file + ": " + e.getMessage(), e);
        }
    }

    /** The text of a file of at most {@code maxBytes}, strictly UTF-8. */
    static String readText(Path file, long maxBytes) throws IOException {
        long size = Files.size(file);
        if (size > maxBytes) {
            throw new IllegalArgumentException(file + " is " + size + " bytes, more than the " + maxBytes + " read");
        }
        byte[] bytes = Files.readAllBytes(file);
        try {
            return StandardCharsets.UTF_8
                    .newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(bytes))
                    .toString();
        } catch (CharacterCodingException e) {
            throw new IllegalArgumentException(file + " is not valid UTF-8", e);
        }
    }

    /** Strict JSON of at most {@link #MAX_DEPTH} levels, or an IllegalArgumentException saying why not. */
    static JsonNode parse(String text) {
        try {
            return JSON.readTree(text);
        } catch (JsonProcessingException e) {
            String m = e.getOriginalMessage();
            String first = m == null
                    ? e.getClass().getSimpleName()
                    : m.lines().findFirst().orElse(m);
            throw new IllegalArgumentException(
                    "not valid JSON: " + first
                            + (e.getLocation() == null
                                    ? ""
                                    : " (line " + e.getLocation().getLineNr() + ", column "
                                            + e.getLocation().getColumnNr() + ")"),
                    e);
        }
    }

    static Checked check(String text) {
        JsonNode root = parse(text);
        if (root == null || !root.isObject()) {
            throw new IllegalArgumentException("not a JSON object");
        }
        Set<JsonNode> charsmapTexts = Collections.newSetFromMap(new IdentityHashMap<>());
        charsmapTexts(root.get("normalizer"), charsmapTexts);
        strings(root, charsmapTexts);
        JsonNode model = root.get("model");
        if (model == null || !model.isObject()) {
            throw new IllegalArgumentException("\"model\" must be an object");
        }
        String type = type(model, "model", MODELS);
        Context context = new Context(new ArrayList<>(), new ArrayList<>());
        long maxId = vocabulary(model, type, context.tokens());
        component(root.get("normalizer"), "normalizer", NORMALIZERS, "normalizers", context, true);
        Map<String, Integer> added = new HashMap<>();
        JsonNode tokens = root.get("added_tokens");
        if (tokens != null && !tokens.isNull()) {
            if (!tokens.isArray()) {
                throw new IllegalArgumentException("\"added_tokens\" must be an array");
            }
            for (JsonNode t : tokens) {
                if (!t.isObject()
                        || !t.path("content").isTextual()
                        || t.path("content").textValue().isEmpty()) {
                    throw new IllegalArgumentException(
                            "an added token must be an object with a non-empty \"content\"" + ", got " + abbreviate(t));
                }
                int id = id(t.get("id"), "added token " + abbreviate(t.get("content")));
                for (String flag : new String[] {"single_word", "lstrip", "rstrip", "normalized", "special"}) {
                    JsonNode f = t.get(flag);
                    if (f != null && !f.isBoolean()) {
                        throw new IllegalArgumentException("added token " + abbreviate(t.get("content")) + ": \"" + flag
                                + "\" must be true or false");
                    }
                }
                JsonNode normalized = t.get("normalized"), special = t.get("special");
                boolean isNormalized = normalized != null
                        ? normalized.booleanValue()
                        : special == null || !special.booleanValue(); // the library's default: !special
                String content = t.get("content").textValue();
                if (isNormalized && !keepsALetterOrDigit(content, context.charsmaps())) {
                    // normalizers may make it empty, and an empty pattern matches inside characters: the library
                    // then slices a string off a character boundary and aborts
                    throw new IllegalArgumentException("added token " + abbreviate(t.get("content"))
                            + " is normalized but holds no letter or digit"
                            + (context.charsmaps().isEmpty()
                                    ? ""
                                    : " (an ASCII one between ASCII characters) that its Precompiled normalizer"
                                            + " leaves as it is")
                            + " (set \"normalized\": false)");
                }
                if (added.putIfAbsent(content, id) != null) {
                    throw new IllegalArgumentException(
                            "added token " + abbreviate(t.get("content")) + " is listed twice");
                }
                context.tokens().add(content);
                maxId = Math.max(maxId, id);
            }
        }
        component(root.get("pre_tokenizer"), "pre_tokenizer", PRE_TOKENIZERS, "pretokenizers", context, true);
        component(root.get("post_processor"), "post_processor", POST_PROCESSORS, "processors", context, true);
        component(root.get("decoder"), "decoder", DECODERS, "decoders", context, true);
        for (String key : new String[] {"truncation", "padding"}) {
            JsonNode v = root.get(key);
            if (v != null && !v.isNull() && !v.isObject()) {
                throw new IllegalArgumentException("\"" + key + "\" must be null or an object");
            }
        }
        if (maxId < 0) {
            throw new IllegalArgumentException("the vocabulary is empty");
        }
        return new Checked(text, added, (int) (maxId + 1));
    }

    /**
     * The {@code precompiled_charsmap} texts of the Precompiled normalizers under {@code n} (a normalizer, through
     * Sequence): compiled maps, not tokens, of a few hundred thousand characters, and checked by
     * {@link PrecompiledCharsmap}.
     */
    private static void charsmapTexts(JsonNode n, Set<JsonNode> out) {
        if (n == null || !n.isObject()) {
            return;
        }
        String type = n.path("type").textValue();
        if ("Precompiled".equals(type) && n.path("precompiled_charsmap").isTextual()) {
            out.add(n.get("precompiled_charsmap"));
        } else if ("Sequence".equals(type) && n.path("normalizers").isArray()) {
            n.get("normalizers").forEach(p -> charsmapTexts(p, out));
        }
    }

    /**
     * Every string and key under {@code n} is at most {@link #MAX_TOKEN_CHARS} long (iteratively: no recursion), but
     * for the Precompiled maps in {@code charsmaps}.
     */
    private static void strings(JsonNode n, Set<JsonNode> charsmaps) {
        ArrayDeque<JsonNode> todo = new ArrayDeque<>();
        todo.push(n);
        while (!todo.isEmpty()) {
            JsonNode v = todo.pop();
            if (charsmaps.contains(v)) {
                continue;
            }
            if (v.isTextual()) {
                tokenLength(v.textValue());
            } else if (v.isNumber() && !Double.isFinite(v.doubleValue())) {
                // serde_json refuses a number past f64's range, and under "decoder" the library aborts on that
                throw new IllegalArgumentException("the number " + abbreviate(v) + " is out of range");
            } else if (v.isObject()) {
                for (Map.Entry<String, JsonNode> e : v.properties()) {
                    tokenLength(e.getKey());
                    todo.push(e.getValue());
                }
            } else if (v.isArray()) {
                v.forEach(todo::push);
            }
        }
    }

    private static void tokenLength(String s) {
        if (s.length() > MAX_TOKEN_CHARS) {
            throw new IllegalArgumentException("a string of " + s.length() + " characters (" + abbreviate(s)
                    + "): the native tokenizer takes at most " + MAX_TOKEN_CHARS);
        }
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            boolean paired = Character.isHighSurrogate(c)
                    ? i + 1 < s.length() && Character.isLowSurrogate(s.charAt(++i))
                    : !Character.isLowSurrogate(c);
            if (!paired) {
                // an escaped lone surrogate ("\ud800"): serde_json refuses it, and under "decoder" the library aborts
                throw new IllegalArgumentException(
                        "a string holds an unpaired surrogate escape (" + abbreviate(s) + ")");
            }
        }
    }

    /** The model's vocabulary: its largest id; its tokens are added to {@code tokens}. */
    private static long vocabulary(JsonNode model, String type, List<String> tokens) {
        JsonNode vocab = model.get("vocab");
        long maxId = -1;
        if (type.equals("Unigram")) {
            if (vocab == null || !vocab.isArray()) {
                throw new IllegalArgumentException("a Unigram model's \"vocab\" must be an array of [piece, score]");
            }
            Set<String> pieces = new HashSet<>();
            for (JsonNode e : vocab) {
                if (!e.isArray()
                        || e.size() != 2
                        || !e.get(0).isTextual()
                        || !e.get(1).isNumber()) {
                    throw new IllegalArgumentException(
                            "Unigram vocabulary entry " + abbreviate(e) + " is not [piece, score]");
                }
                if (!Double.isFinite(e.get(1).doubleValue())) {
                    throw new IllegalArgumentException(
                            "Unigram vocabulary entry " + abbreviate(e) + " has a score that is not finite");
                }
                tokens.add(e.get(0).textValue());
                if (!pieces.add(e.get(0).textValue())) {
                    throw new IllegalArgumentException("Unigram piece " + abbreviate(e.get(0)) + " is listed twice");
                }
            }
            maxId = vocab.size() - 1L;
            JsonNode unk = model.get("unk_id");
            if (unk != null
                    && !unk.isNull()
                    && (!unk.canConvertToInt() || unk.intValue() < 0 || unk.intValue() > maxId)) {
                throw new IllegalArgumentException("Unigram unk_id " + abbreviate(unk) + " is not an id of its vocab");
            }
            return maxId;
        }
        if (vocab == null || !vocab.isObject()) {
            throw new IllegalArgumentException("a " + type + " model's \"vocab\" must be an object of token: id");
        }
        Set<Integer> ids = new HashSet<>();
        for (Map.Entry<String, JsonNode> e : vocab.properties()) {
            int id = id(e.getValue(), "token " + abbreviate(e.getKey()));
            tokens.add(e.getKey());
            if (!ids.add(id)) {
                throw new IllegalArgumentException("vocabulary id " + id + " is given to two tokens");
            }
            maxId = Math.max(maxId, id);
        }
        JsonNode merges = model.get("merges");
        if (type.equals("BPE") && merges != null && !merges.isNull()) {
            if (!merges.isArray()) {
                throw new IllegalArgumentException("a BPE model's \"merges\" must be an array");
            }
            JsonNode prefixNode = model.get("continuing_subword_prefix");
            String prefix = prefixNode != null && prefixNode.isTextual() ? prefixNode.textValue() : "";
            for (JsonNode m : merges) {
                boolean pair = m.isArray()
                        && m.size() == 2
                        && m.get(0).isTextual()
                        && m.get(1).isTextual();
                if (!m.isTextual() && !pair) {
                    throw new IllegalArgumentException("BPE merge " + abbreviate(m) + " is not \"a b\" or [a, b]");
                }
                // the library cuts the prefix off the second part by its length, and aborts when it is not there
                String second = pair
                        ? m.get(1).textValue()
                        : m.textValue().substring(m.textValue().indexOf(' ') + 1);
                if (!prefix.isEmpty() && !second.startsWith(prefix)) {
                    throw new IllegalArgumentException("BPE merge " + abbreviate(m) + ": its second part does not"
                            + " start with the continuing_subword_prefix " + abbreviate(prefixNode));
                }
            }
        }
        return maxId;
    }

    /** A token id: an integer in [0, 2^31 - 1). */
    private static int id(JsonNode v, String what) {
        if (v == null
                || !v.isIntegralNumber()
                || !v.canConvertToInt()
                || v.intValue() < 0
                || v.intValue() == Integer.MAX_VALUE) {
            throw new IllegalArgumentException(
                    what + ": id " + (v == null ? "missing" : abbreviate(v)) + " is not an integer in [0, 2^31 - 1)");
        }
        return v.intValue();
    }

    /**
     * A normalizer, pre-tokenizer, post-processor or decoder: null, or an object of a known type. {@code first}: it
     * is applied before any other of its kind (it heads the chain, through Sequence).
     */
    private static void component(
            JsonNode v, String what, Set<String> types, String sequenceKey, Context context, boolean first) {
        if (v == null || v.isNull()) {
            return;
        }
        if (!v.isObject()) {
            throw new IllegalArgumentException("\"" + what + "\" must be null or an object");
        }
        String type = type(v, what, types);
        if (type.equals("Sequence")) {
            JsonNode parts = v.get(sequenceKey);
            if (parts == null || !parts.isArray()) {
                throw new IllegalArgumentException(what + " Sequence needs an array \"" + sequenceKey + "\"");
            }
            boolean head = first;
            for (JsonNode p : parts) {
                if (p == null || p.isNull()) {
                    throw new IllegalArgumentException(what + " Sequence holds a null");
                }
                component(p, what, types, sequenceKey, context, head);
                head = false;
            }
        }
        if (what.equals("decoder") && type.equals("Strip")) {
            strip(v, first, context.tokens());
        }
        if (what.equals("normalizer") && type.equals("Precompiled")) {
            JsonNode map = v.get("precompiled_charsmap");
            if (map == null || !map.isTextual()) {
                // spm_precompiled's from_base64 wants a string, and the library reads the normalizer with
                // .expect("Precompiled"): anything else aborts
                throw new IllegalArgumentException("normalizer Precompiled: \"precompiled_charsmap\" " + abbreviate(map)
                        + " is not a base64 string");
            }
            try {
                context.charsmaps().add(PrecompiledCharsmap.read(map.textValue()));
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException(
                        "normalizer Precompiled: \"precompiled_charsmap\" " + abbreviate(map) + " " + e.getMessage(),
                        e);
            }
        }
        if (what.equals("normalizer") && type.equals("Replace")) {
            JsonNode content = v.get("content");
            if (content == null || !content.isTextual() || content.textValue().isEmpty()) {
                // a deleting normalizer can make an added token empty (see the added tokens)
                throw new IllegalArgumentException("normalizer Replace needs a non-empty \"content\"");
            }
        }
        JsonNode pattern = v.get("pattern");
        if (pattern != null && !pattern.isNull()) {
            boolean ok = pattern.isObject()
                    && pattern.size() == 1
                    && (pattern.path("String").isTextual()
                            || pattern.path("Regex").isTextual());
            if (!ok) {
                throw new IllegalArgumentException(
                        what + " " + type + ": \"pattern\" must be {\"String\": ...} or {\"Regex\": ...}");
            }
        }
    }

    /**
     * A Strip decoder. Its {@code decode_chain} (tokenizers {@code src/decoders/strip.rs}) takes up to {@code start}
     * leading and up to {@code stop} trailing {@code content} characters off each token, counting the trailing ones
     * by {@code chars.len() - i - 1}: on a token made only of {@code content} and shorter than {@code start + stop}
     * that index runs below 0 (an empty token, or one shorter than stop) or the cuts cross ({@code
     * chars[start_cut..stop_cut]} with start_cut > stop_cut), and either panics, which aborts the process. A token
     * holding any other character stops both loops at it, and {@code stop} 0 never indexes (what LLaMA-2, Mistral and
     * Phi-3 publish: {@code "start": 1, "stop": 0}). So a {@code stop} above 0 is taken where the Strip decoder heads
     * the chain, and so sees exactly the vocabulary's and the added tokens' strings, none of which it could empty; after
     * another decoder it could be handed anything (Fuse hands it an empty string when no id is decoded), so it is
     * refused there.
     */
    private static void strip(JsonNode v, boolean first, List<String> tokens) {
        JsonNode stopNode = v.get("stop"), startNode = v.get("start"), content = v.get("content");
        if (stopNode == null
                || !stopNode.isIntegralNumber()
                || !stopNode.canConvertToLong()
                || stopNode.longValue() < 0) {
            throw new IllegalArgumentException("decoder Strip: \"stop\" " + abbreviate(stopNode) + " is not a count");
        }
        long stop = stopNode.longValue();
        if (stop == 0) {
            return;
        }
        if (!first) {
            throw new IllegalArgumentException("decoder Strip: \"stop\" " + stop
                    + " after another decoder: it may hand it an empty token, which the library indexes before its"
                    + " start, and aborts (use 0, or put the Strip first)");
        }
        if (content == null
                || !content.isTextual()
                || content.textValue().codePointCount(0, content.textValue().length()) != 1) {
            return; // not a char: the library refuses the file
        }
        long start = startNode != null && startNode.isIntegralNumber() && startNode.canConvertToLong()
                ? Math.max(0, startNode.longValue())
                : 0; // not a count: the library refuses the file
        int c = content.textValue().codePointAt(0);
        for (String t : tokens) {
            if (t.codePoints().allMatch(x -> x == c) && t.codePointCount(0, t.length()) < start + stop) {
                throw new IllegalArgumentException("decoder Strip: \"start\" " + start + " and \"stop\" " + stop
                        + " would strip all of the token " + abbreviate(t)
                        + ": the library indexes before its start, and aborts");
            }
        }
    }

    /**
     * Whether a normalized added token keeps a letter or digit through the normalizers, which cannot make it empty
     * then. Without a Precompiled map: any letter or digit (the other normalizers keep them). With one: an ASCII
     * letter or digit between ASCII characters (so a grapheme of its own, looked up as its one byte) that no map
     * rewrites, in either case (a Lowercase may come first), since a map may rewrite it to nothing.
     */
    private static boolean keepsALetterOrDigit(String content, List<PrecompiledCharsmap> charsmaps) {
        if (charsmaps.isEmpty()) {
            return content.codePoints().anyMatch(Character::isLetterOrDigit);
        }
        for (int i = 0; i < content.length(); i++) {
            char c = content.charAt(i);
            boolean alone = (i == 0 || content.charAt(i - 1) < 0x80)
                    && (i + 1 == content.length() || content.charAt(i + 1) < 0x80);
            if (c < 0x80 && Character.isLetterOrDigit(c) && alone) {
                char lower = Character.toLowerCase(c);
                if (charsmaps.stream().allMatch(m -> m.transform(c) == null && m.transform(lower) == null)) {
                    return true;
                }
            }
        }
        return false;
    }

    /** The "type" of an object, one of {@code known}. */
    private static String type(JsonNode v, String what, Set<String> known) {
        JsonNode t = v.get("type");
        if (t == null || !t.isTextual()) {
            throw new IllegalArgumentException(
                    what + " needs a \"type\" (one of " + String.join(", ", sorted(known)) + ")");
        }
        if (!known.contains(t.textValue())) {
            throw new IllegalArgumentException(what + " type " + abbreviate(t) + " is not supported (supported: "
                    + String.join(", ", sorted(known)) + ")");
        }
        return t.textValue();
    }

    private static List<String> sorted(Set<String> s) {
        return s.stream().sorted().toList();
    }

    /** A value for a message: JSON text, at most 60 characters, on one line. */
    static String abbreviate(Object v) {
        String s = v instanceof JsonNode n ? n.toString() : "\"" + v + "\"";
        s = s.replace('\n', ' ').replace('\r', ' ');
        return s.length() > 60 ? s.substring(0, 57) + "..." : s;
    }
}
