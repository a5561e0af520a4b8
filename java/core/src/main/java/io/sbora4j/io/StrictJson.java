package io.sbora4j.io;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.json.JsonMapper;

/**
 * The JSON settings of this package: a duplicated key is an error (a lenient parser keeps the last one silently,
 * which is how two readers of one file come to disagree), and so is anything after the top-level value. Trees only,
 * no data binding, so the package needs no reflective access from Jackson.
 */
final class StrictJson {

    /** Compact output: safetensors headers. */
    static final ObjectMapper COMPACT = JsonMapper.builder()
            .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
            .enable(DeserializationFeature.FAIL_ON_READING_DUP_TREE_KEY)
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .build();

    /** Indented output: config.json and the shard index, which people read. */
    static final ObjectMapper PRETTY = COMPACT.copy().enable(SerializationFeature.INDENT_OUTPUT);

    private StrictJson() {}

    /** Parses {@code text}; the caller turns the exception into one that names its file. */
    static JsonNode parse(String text) throws JsonProcessingException {
        return COMPACT.readTree(text);
    }

    /** A short description of a parse error: Jackson's first line, without the source excerpt. */
    static String describe(JsonProcessingException e) {
        String m = e.getOriginalMessage();
        String first =
                m == null ? e.getClass().getSimpleName() : m.lines().findFirst().orElse(m);
        return e.getLocation() == null
                ? first
                : first + " (line " + e.getLocation().getLineNr() + ", column "
                        + e.getLocation().getColumnNr() + ")";
    }
}
