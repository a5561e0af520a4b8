package io.sbora4j.bench.report;

/**
 * A measured time per operation.
 *
 * @param ms      milliseconds per operation
 * @param errorMs JMH's error margin in ms, NaN when unknown (a single measurement iteration)
 */
public record Timing(double ms, double errorMs) {

    /** The mean of several timings of the same work; the error is the largest of theirs (a cautious bound). */
    public static Timing mean(Iterable<Timing> timings) {
        double sum = 0;
        double err = Double.NaN;
        int n = 0;
        for (Timing t : timings) {
            sum += t.ms;
            err = Double.isNaN(err) ? t.errorMs : Math.max(err, t.errorMs);
            n++;
        }
        if (n == 0) {
            throw new IllegalArgumentException("mean of no timings");
        }
        return new Timing(sum / n, err);
    }
}
