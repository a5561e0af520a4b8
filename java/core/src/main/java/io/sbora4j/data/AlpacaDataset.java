package io.sbora4j.data;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Reads Alpaca-style data: a JSON array of objects, or JSON Lines (one object per line), each with
 * {@code instruction} and {@code output} strings, optionally {@code input} and {@code answer}. A malformed file is
 * an IllegalArgumentException naming the file and the record (or line).
 */
public final class AlpacaDataset {

    private static final ObjectMapper JSON = new ObjectMapper()
            .enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION)
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS); // "[..][..]" or "{..} {..}": not one record

    private AlpacaDataset() {}

    public static List<Example> read(Path file) throws IOException {
        String text = Files.readString(file, StandardCharsets.UTF_8);
        List<Example> out = new ArrayList<>();
        String trimmed = text.stripLeading();
        if (trimmed.startsWith("[")) {
            JsonNode root = parse(file, text, "the file");
            for (int i = 0; i < root.size(); i++) {
                out.add(example(file, root.get(i), "record " + (i + 1)));
            }
        } else {
            String[] lines = text.split("\n", -1);
            for (int i = 0; i < lines.length; i++) {
                if (!lines[i].isBlank()) {
                    out.add(example(file, parse(file, lines[i], "line " + (i + 1)), "line " + (i + 1)));
                }
            }
        }
        if (out.isEmpty()) {
            throw new IllegalArgumentException(file + ": no examples");
        }
        return out;
    }

    private static JsonNode parse(Path file, String json, String where) {
        try {
            return JSON.readTree(json);
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException(
                    file + ": " + where + " is not valid JSON: " + e.getOriginalMessage(), e);
        }
    }

    private static Example example(Path file, JsonNode n, String where) {
        if (n == null || !n.isObject()) {
            throw new IllegalArgumentException(file + ": " + where + " is not a JSON object");
        }
        return new Example(
                text(file, n, "instruction", where, true),
                text(file, n, "input", where, false),
                text(file, n, "output", where, true),
                text(file, n, "answer", where, false));
    }

    private static String text(Path file, JsonNode n, String key, String where, boolean required) {
        JsonNode v = n.get(key);
        if (v == null || v.isNull()) {
            if (required) {
                throw new IllegalArgumentException(file + ": " + where + " lacks \"" + key + "\"");
            }
            return "";
        }
        if (!v.isTextual() && !v.isNumber()) {
            throw new IllegalArgumentException(file + ": " + where + ": \"" + key + "\" must be a string");
        }
        return v.asText();
    }
}
