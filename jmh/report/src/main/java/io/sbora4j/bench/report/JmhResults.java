package io.sbora4j.bench.report;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Reads JMH's JSON result file ({@code -rf json -rff results.json}) into {@link BenchResult}s.
 *
 * <p>Only the fields the report needs are read: benchmark, mode, params and the primary metric. Scores are
 * normalised to ms per operation, so that a run with {@code -tu us} or {@code -bm thrpt} gives the same tables.
 */
public final class JmhResults {

    private static final ObjectMapper JSON = new ObjectMapper();

    private JmhResults() {}

    /** The results in {@code file}, in file order. */
    public static List<BenchResult> read(Path file) throws IOException {
        return parse(JSON.readTree(file.toFile()), file.toString());
    }

    /** The results in a JSON text, in order. */
    public static List<BenchResult> parse(String json) throws IOException {
        return parse(JSON.readTree(json), "JSON text");
    }

    static List<BenchResult> parse(JsonNode root, String source) {
        if (root == null || !root.isArray()) {
            throw new IllegalArgumentException(source + " is not a JMH result file (expected a JSON array)");
        }
        List<BenchResult> out = new ArrayList<>();
        for (JsonNode n : root) {
            out.add(result(n, source));
        }
        return out;
    }

    private static BenchResult result(JsonNode n, String source) {
        String fqn = text(n, "benchmark", source);
        int dot = fqn.lastIndexOf('.');
        String method = fqn.substring(dot + 1);
        String cls = dot < 0 ? fqn : fqn.substring(fqn.lastIndexOf('.', dot - 1) + 1, dot);
        Map<String, String> params = new LinkedHashMap<>();
        JsonNode p = n.path("params");
        p.properties().forEach(e -> params.put(e.getKey(), e.getValue().asText()));
        JsonNode metric = n.path("primaryMetric");
        double score = number(metric.path("score"));
        double error = number(metric.path("scoreError"));
        String unit = text(metric, "scoreUnit", source + " (" + fqn + ")");
        double ms = toMsPerOp(score, unit);
        // For a throughput the error is carried through t = 1/s to first order: dt = ds / s².
        double errMs = isThroughput(unit) ? toMsPerOp(score, unit) * (error / score) : toMsPerOp(error, unit);
        return new BenchResult(cls, method, n.path("mode").asText(""), params, ms, errMs);
    }

    /** A score in {@code unit} ({@code ms/op}, {@code us/op}, {@code ops/s}, ...) as ms per operation. */
    static double toMsPerOp(double score, String unit) {
        String[] parts = unit.trim().split("/");
        if (parts.length != 2) {
            throw new IllegalArgumentException("unknown JMH score unit '" + unit + "'");
        }
        if (isThroughput(unit)) {
            return msPer(parts[1]) / score;
        }
        return score * msPer(parts[0]);
    }

    private static boolean isThroughput(String unit) {
        return unit.trim().startsWith("ops/");
    }

    /** Milliseconds in one {@code unit} as JMH spells it. */
    private static double msPer(String unit) {
        return switch (unit.trim().toLowerCase(Locale.ROOT)) {
            case "ns" -> 1e-6;
            case "us", "µs" -> 1e-3;
            case "ms" -> 1;
            case "s" -> 1e3;
            case "min" -> 60e3;
            case "hr" -> 3600e3;
            default -> throw new IllegalArgumentException("unknown JMH time unit '" + unit + "'");
        };
    }

    // JMH writes "NaN" (a string) for an error it cannot compute.
    private static double number(JsonNode v) {
        if (v.isNumber()) {
            return v.asDouble();
        }
        try {
            return Double.parseDouble(v.asText("NaN"));
        } catch (NumberFormatException e) {
            return Double.NaN;
        }
    }

    private static String text(JsonNode n, String field, String where) {
        JsonNode v = n.get(field);
        if (v == null || !v.isTextual()) {
            throw new IllegalArgumentException(where + ": a JMH result without '" + field + "'");
        }
        return v.asText();
    }
}
