package io.sbora4j.bench.report;

import java.util.Map;

/**
 * One line of JMH's result file: a benchmark at one parameter combination, its score already converted to
 * milliseconds per operation whatever mode and unit it was run with.
 *
 * @param benchmark the benchmark class's simple name, e.g. {@code AdapterLayerBench}
 * @param method    the benchmark method, e.g. {@code forwardBackward}
 * @param mode      JMH's mode id ({@code avgt}, {@code thrpt}, {@code ss}, {@code sample})
 * @param params    the {@code @Param} values, as JMH writes them (strings)
 * @param ms        the score: milliseconds per operation
 * @param errorMs   the score's error (half-width of JMH's confidence interval) in ms; NaN when JMH had too few
 *                  iterations to give one
 */
public record BenchResult(
        String benchmark, String method, String mode, Map<String, String> params, double ms, double errorMs) {

    public BenchResult {
        params = Map.copyOf(params);
    }

    /** The parameter {@code name}, or null when the benchmark has none of that name. */
    public String param(String name) {
        return params.get(name);
    }

    /** The integer parameter {@code name}; fails naming the benchmark when it is absent or not a number. */
    public int intParam(String name) {
        String v = params.get(name);
        if (v == null) {
            throw new IllegalArgumentException(benchmark + " result has no parameter '" + name + "': " + params);
        }
        try {
            return Integer.parseInt(v.trim());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(benchmark + " parameter " + name + "=" + v + " is not an integer", e);
        }
    }

    /** The score as a {@link Timing}. */
    public Timing timing() {
        return new Timing(ms, errorMs);
    }
}
