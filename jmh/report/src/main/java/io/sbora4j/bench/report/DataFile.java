package io.sbora4j.bench.report;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Reads the reports' data files ({@code docs/bench/targets.json}, {@code machines.json}): groups of named constants,
 * each written {@code "name": {"value": 0.55, "description": "what it bounds"}}.
 */
final class DataFile {

    /**
     * The folder of the data files, and of the CPU report, unless the command line says otherwise: {@code docs/bench}
     * relative to the working directory (the repository's root).
     */
    static final Path DEFAULT_DIR = Path.of("docs", "bench");

    private static final ObjectMapper JSON = new ObjectMapper();

    private DataFile() {}

    /** The JSON object in {@code file}; fails naming the file and the option that points at its folder. */
    static JsonNode read(Path file) throws IOException {
        if (!Files.isRegularFile(file)) {
            throw new NoSuchFileException(
                    file.toString(), null, "not found (--data DIR names the folder of targets.json and machines.json)");
        }
        JsonNode root = JSON.readTree(file.toFile());
        if (root == null || !root.isObject()) {
            throw new IllegalArgumentException(file + ": expected a JSON object");
        }
        return root;
    }

    /** The object {@code field} of {@code parent}; fails naming {@code where} when it is absent. */
    static JsonNode object(JsonNode parent, String field, String where) {
        JsonNode n = parent.get(field);
        if (n == null || !n.isObject()) {
            throw new IllegalArgumentException(where + ": no object '" + field + "'");
        }
        return n;
    }

    /**
     * The values of the {@code required} constants in {@code group} (others are allowed and ignored); fails naming
     * the first that is absent or not a number.
     */
    static Map<String, Double> values(JsonNode group, List<String> required, String where) {
        Map<String, Double> out = new LinkedHashMap<>();
        for (String name : required) {
            JsonNode v = group.path(name).path("value");
            if (!v.isNumber()) {
                throw new IllegalArgumentException(where + ": '" + name + "' needs a numeric \"value\"");
            }
            out.put(name, v.asDouble());
        }
        return out;
    }
}
