package io.sbora4j.hf;

import ai.djl.huggingface.tokenizers.Encoding;
import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sbora4j.data.Tokenizer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A Hugging Face {@code tokenizer.json} (BPE, WordPiece, ... as the file says) run by the Rust tokenizers library
 * through DJL, whose jar carries the native library: no network, no install. Special tokens are named by
 * {@code tokenizer_config.json} when it sits beside the file, else found among the file's added tokens under
 * their usual LLaMA names.
 */
public final class HfTokenizer implements Tokenizer, AutoCloseable {

    private static final ObjectMapper JSON = new ObjectMapper();

    private final HuggingFaceTokenizer tokenizer;
    private final int vocabSize;
    private final int bos;
    private final int eos;
    private final int pad;

    private HfTokenizer(HuggingFaceTokenizer tokenizer, int vocabSize, int bos, int eos, int pad) {
        this.tokenizer = tokenizer;
        this.vocabSize = vocabSize;
        this.bos = bos;
        this.eos = eos;
        this.pad = pad;
    }

    /** The tokenizer in {@code path}: a tokenizer.json file, or a directory holding one. */
    public static HfTokenizer load(Path path) throws IOException {
        Path file = Files.isDirectory(path) ? path.resolve("tokenizer.json") : path;
        if (!Files.isRegularFile(file)) {
            throw new IOException("no tokenizer.json at " + path);
        }
        JsonNode root;
        try {
            root = JSON.readTree(file.toFile());
        } catch (IOException e) {
            throw new IllegalArgumentException(file + " is not valid JSON: " + e.getMessage(), e);
        }
        Map<String, Integer> special = new HashMap<>();
        int maxId = -1;
        for (JsonNode t : root.path("added_tokens")) {
            special.put(t.path("content").asText(), t.path("id").asInt());
            maxId = Math.max(maxId, t.path("id").asInt());
        }
        JsonNode vocab = root.path("model").path("vocab");
        if (vocab.isObject()) {
            for (JsonNode id : vocab) {
                maxId = Math.max(maxId, id.asInt());
            }
        } else if (vocab.isArray()) { // Unigram: [[piece, score], ...]
            maxId = Math.max(maxId, vocab.size() - 1);
        }
        Map<String, String> names = specialNames(file.resolveSibling("tokenizer_config.json"));
        int bos = find(special, names.get("bos_token"), List.of("<s>", "<|begin_of_text|>", "<bos>"), file, "BOS");
        int eos = find(
                special,
                names.get("eos_token"),
                List.of("</s>", "<|end_of_text|>", "<|eot_id|>", "<eos>"),
                file,
                "EOS");
        Integer pad = names.get("pad_token") != null ? special.get(names.get("pad_token")) : null;
        HuggingFaceTokenizer tok = HuggingFaceTokenizer.builder()
                .optTokenizerPath(file)
                .optAddSpecialTokens(false)
                .build();
        return new HfTokenizer(tok, maxId + 1, bos, eos, pad != null ? pad : eos);
    }

    private static Map<String, String> specialNames(Path config) throws IOException {
        Map<String, String> out = new HashMap<>();
        if (!Files.isRegularFile(config)) {
            return out;
        }
        JsonNode c = JSON.readTree(config.toFile());
        for (String k : List.of("bos_token", "eos_token", "pad_token")) {
            JsonNode v = c.get(k);
            if (v != null && v.isTextual()) {
                out.put(k, v.asText());
            } else if (v != null && v.isObject()) {
                out.put(k, v.path("content").asText());
            }
        }
        return out;
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
        throw new IllegalArgumentException(file + ": no " + what + " token among its added tokens " + special.keySet());
    }

    @Override
    public int[] encode(String text) {
        Encoding e = tokenizer.encode(text, false, false);
        long[] ids = e.getIds();
        int[] out = new int[ids.length];
        for (int i = 0; i < ids.length; i++) {
            out[i] = Math.toIntExact(ids[i]);
        }
        return out;
    }

    @Override
    public String decode(int[] ids) {
        long[] l = new long[ids.length];
        for (int i = 0; i < ids.length; i++) {
            l[i] = ids[i];
        }
        return tokenizer.decode(l, true);
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
