package io.sbora4j.peft;

import java.util.Locale;

/**
 * Trainable and total parameters, as PEFT's {@code print_trainable_parameters} reports them. Total counts the
 * frozen base plus the trainable adapter parameters; SBoRA's index lists are not parameters.
 */
public record ParameterReport(long trainable, long total) {

    public double percent() {
        return total == 0 ? 0 : 100.0 * trainable / total;
    }

    @Override
    public String toString() {
        return String.format(
                Locale.ROOT,
                "trainable params: %,d || all params: %,d || trainable%%: %.4f",
                trainable,
                total,
                percent());
    }
}
