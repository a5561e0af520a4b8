package io.sbora4j.hf;

import ai.djl.huggingface.tokenizers.Encoding;
import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import com.fasterxml.jackson.databind.JsonNode;
import io.sbora4j.data.Tokenizer;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A Hugging Face {@code tokenizer.json} (BPE, WordPiece, ... as the file says) run by the Rust tokenizers library
 * through DJL, whose jar carries the native library: no network, no install. Special tokens are named by
 * {@code tokenizer_config.json} when it sits beside the file, else found among the file's added tokens under
 * their usual LLaMA names.
 *
 * <p>The native library aborts the process on some malformed input rather than reporting it, so the file is
 * checked in Java first ({@code TokenizerJson}: strict JSON of a known shape and known component types) and exactly
 * the text checked is handed over. Every failure to load or use a tokenizer is an {@link IllegalArgumentException}
 * naming the file (or an {@link IOException} for one that cannot be read). Texts are encoded whole: no truncation,
 * no padding.
 */
public final class HfTokenizer implements Tokenizer, AutoCloseable {

    /** The largest tokenizer_config.json read. */
    private static final long MAX_CONFIG_BYTES = 16L << 20;

    private final Path file;
    private final HuggingFaceTokenizer tokenizer;
    private final int vocabSize;
    private final int bos;
    private final int eos;
    private final int pad;

    private HfTokenizer(Path file, HuggingFaceTokenizer tokenizer, int vocabSize, int bos, int eos, int pad) {
        this.file = file;
        this.tokenizer = tokenizer;
        this.vocabSize = vocabSize;
        this.bos = bos;
        this.eos = eos;
        this.pad = pad;
    }

    /**
     * The tokenizer in {@code path}: a tokenizer.json file, or a directory holding one.
     *
     * @throws IOException              if there is no such file, or it cannot be read
     * @throws IllegalArgumentException naming the file, if it is not a tokenizer this library can run
     */
    public static HfTokenizer load(Path path) throws IOException {
        Path file = Files.isDirectory(path) ? path.resolve("tokenizer.json") : path;
        if (!Files.isRegularFile(file)) {
            throw new IOException("no tokenizer.json at " + path);
        }
        TokenizerJson.Checked checked = TokenizerJson.read(file);
        Map<String, Integer> special = checked.addedTokens();
        Map<String, String> names = specialNames(file.resolveSibling("tokenizer_config.json"));
        // BOS is optional: Qwen2's tokenizer (bos_token null), T5's and BERT's have none, and then nothing is
        // prepended; one the config names must exist
        List<String> usualBos = List.of("<s>", "<|begin_of_text|>", "<bos>");
        boolean noBos = names.containsKey("bos_token") ? names.get("bos_token") == null : !hasAny(special, usualBos);
        int bos = noBos ? -1 : find(special, names.get("bos_token"), usualBos, file, "BOS");
        int eos = find(
                special,
                names.get("eos_token"),
                List.of("</s>", "<|end_of_text|>", "<|eot_id|>", "<eos>", "<|endoftext|>"),
                file,
                "EOS");
        Integer pad = names.get("pad_token") != null ? special.get(names.get("pad_token")) : null;
        HuggingFaceTokenizer tok;
        try {
            // exactly the text checked; no special tokens, no truncation (DJL's default cuts at 512), no padding
            tok = HuggingFaceTokenizer.newInstance(
                    new ByteArrayInputStream(checked.text().getBytes(StandardCharsets.UTF_8)),
                    Map.of("addSpecialTokens", "false", "truncation", "false", "padding", "false"));
        } catch (RuntimeException e) {
            throw new IllegalArgumentException(file + ": the tokenizers library refused it: " + oneLine(e), e);
        }
        return new HfTokenizer(file, tok, checked.vocabSize(), bos, eos, pad != null ? pad : eos);
    }

    private static Map<String, String> specialNames(Path config) throws IOException {
        Map<String, String> out = new HashMap<>();
        if (!Files.isRegularFile(config)) {
            return out;
        }
        JsonNode c;
        try {
            c = TokenizerJson.parse(TokenizerJson.readText(config, MAX_CONFIG_BYTES));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(
                    e.getMessage().startsWith(config.toString()) ? e.getMessage() : config + ": " + e.getMessage(), e);
        }
        if (c == null || !c.isObject()) {
            throw new IllegalArgumentException(config + ": not a JSON object");
        }
        for (String k : List.of("bos_token", "eos_token", "pad_token")) {
            JsonNode v = c.get(k);
            if (v != null && v.isNull()) {
                out.put(k, null); // the tokenizer has none
            } else if (v != null && v.isTextual()) {
                out.put(k, v.asText());
            } else if (v != null && v.isObject()) {
                out.put(k, v.path("content").asText());
            }
        }
        return out;
    }

    private static boolean hasAny(Map<String, Integer> special, List<String> usual) {
        return usual.stream().anyMatch(special::containsKey);
    }

    private static int find(Map<String, Integer> special, String named, List<String> usual, Path file, String what) {
        if (named != null && special.containsKey(named)) {
            return special.get(named);
        }
        for (String u : usual) {
            if (special.containsKey(u)) {
                return special.get(u);
            }
        }
        String known =
                String.join(", ", special.keySet().stream().sorted().limit(20).toList())
                        + (special.size() > 20 ? ", ..." : "");
        throw new IllegalArgumentException(
                file + ": no " + what + " token among its added tokens [" + TokenizerJson.abbreviate(known) + "]");
    }

    private static String oneLine(RuntimeException e) {
        String m = e.getMessage();
        return m == null || m.isBlank()
                ? e.getClass().getSimpleName()
                : m.replace('\n', ' ').replace('\r', ' ');
    }

    /** @throws IllegalArgumentException naming the file, if the tokenizers library fails on {@code text} */
    @Override
    public int[] encode(String text) {
        Encoding e;
        try {
            e = tokenizer.encode(text, false, false);
        } catch (RuntimeException ex) {
            throw new IllegalArgumentException(file + ": cannot encode a text: " + oneLine(ex), ex);
        }
        long[] ids = e.getIds();
        int[] out = new int[ids.length];
        for (int i = 0; i < ids.length; i++) {
            if (ids[i] < 0 || ids[i] >= vocabSize) {
                throw new IllegalArgumentException(file + ": the tokenizer produced id " + ids[i]
                        + " outside its vocabulary [0, " + vocabSize + ")");
            }
            out[i] = (int) ids[i];
        }
        return out;
    }

    /** Ids outside the vocabulary decode to nothing. */
    @Override
    public String decode(int[] ids) {
        long[] l = new long[ids.length];
        int n = 0;
        for (int id : ids) {
            if (id >= 0 && id < vocabSize) {
                l[n++] = id;
            }
        }
        try {
            return tokenizer.decode(Arrays.copyOf(l, n), true);
        } catch (RuntimeException ex) {
            throw new IllegalArgumentException(file + ": cannot decode ids: " + oneLine(ex), ex);
        }
    }

    @Override
    public int vocabSize() {
        return vocabSize;
    }

    @Override
    public int bosId() {
        return bos;
    }

    @Override
    public int eosId() {
        return eos;
    }

    @Override
    public int padId() {
        return pad;
    }

    @Override
    public void close() {
        tokenizer.close();
    }
}
