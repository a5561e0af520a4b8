package io.sbora4j.bench.report;

import java.util.Locale;

/**
 * One target checked over many table rows, summed up in one line for the top of a report: how many rows meet it,
 * and the worst row. Rows whose figure is unknown (NaN) are not counted.
 */
final class TargetTally {

    static final String MET = "[met]";
    static final String MISSED = "[MISSED]";
    static final String NOT_MEASURED = "[not measured]";

    private final String target;
    private final boolean atMost;
    private final double limit;
    private int checked;
    private int met;
    private double worst = Double.NaN;
    private String worstAt;

    private TargetTally(String target, boolean atMost, double limit) {
        this.target = target;
        this.atMost = atMost;
        this.limit = limit;
    }

    /** A target every figure of which must be at most {@code limit}; {@code target} names it in the line. */
    static TargetTally atMost(String target, double limit) {
        return new TargetTally(target, true, limit);
    }

    /** A target every figure of which must be at least {@code limit}. */
    static TargetTally atLeast(String target, double limit) {
        return new TargetTally(target, false, limit);
    }

    /** Whether {@code value} meets the target (false for NaN). */
    boolean meets(double value) {
        return !Double.isNaN(value) && (atMost ? value <= limit : value >= limit);
    }

    /** Counts {@code value}, measured at {@code where}; returns whether it meets the target. */
    boolean add(double value, String where) {
        if (Double.isNaN(value)) {
            return false;
        }
        checked++;
        boolean ok = meets(value);
        if (ok) {
            met++;
        }
        if (Double.isNaN(worst) || (atMost ? value > worst : value < worst)) {
            worst = value;
            worstAt = where;
        }
        return ok;
    }

    int checked() {
        return checked;
    }

    int met() {
        return met;
    }

    /**
     * {@code - [met] target: 4 of 4 (worst 0.52 at bf16 fused ...)}, {@code - [MISSED] target: 3 of 4 (worst ...)}
     * or {@code - [not measured] target}.
     */
    String line() {
        if (checked == 0) {
            return "- " + NOT_MEASURED + " " + target;
        }
        return "- " + (met == checked ? MET : MISSED) + " " + target + ": " + met + " of " + checked
                + " meet it (worst " + String.format(Locale.ROOT, "%.2f", worst) + " at " + worstAt + ")";
    }
}
