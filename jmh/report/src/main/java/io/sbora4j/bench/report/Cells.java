package io.sbora4j.bench.report;

import java.util.Locale;

/** How numbers print in the reports' table cells: fixed decimals whatever the locale, a dash for unknown. */
final class Cells {

    /** An unknown or unmeasured figure. */
    static final String NONE = "-";

    private Cells() {}

    /** {@code v} in {@code fmt} (e.g. {@code %.2f}), or {@link #NONE} when it is not finite. */
    static String num(double v, String fmt) {
        return Double.isFinite(v) ? String.format(Locale.ROOT, fmt, v) : NONE;
    }

    /** "12.34 ± 0.56" in ms × {@code scale}, the error left out when JMH gave none; {@link #NONE} for null. */
    static String timing(Timing t, double scale, String fmt) {
        if (t == null) {
            return NONE;
        }
        String v = num(t.ms() * scale, fmt);
        return Double.isNaN(t.errorMs()) ? v : v + " ± " + num(t.errorMs() * scale, fmt);
    }

    /** "42%" for 0.42. */
    static String percent(double fraction) {
        return Double.isFinite(fraction) ? String.format(Locale.ROOT, "%.0f%%", 100 * fraction) : NONE;
    }

    /** "1.23 ok" or "1.23 MISSED" against an upper bound. */
    static String atMost(double v, double max) {
        return Double.isNaN(v) ? NONE : num(v, "%.2f") + (v <= max ? " ok" : " MISSED");
    }

    /** "12.3 ok" or "12.3 MISSED" against a lower bound. */
    static String atLeast(double v, double min) {
        return Double.isNaN(v) ? NONE : num(v, "%.1f") + (v >= min ? " ok" : " MISSED");
    }
}
