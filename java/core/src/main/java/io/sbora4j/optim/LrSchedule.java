package io.sbora4j.optim;

import java.util.Locale;

/**
 * Learning rate by step: linear warmup from 0, then constant, linear or cosine decay to 0 at {@code totalSteps}
 * (HF's {@code get_linear_schedule_with_warmup} and {@code get_cosine_schedule_with_warmup}).
 */
public record LrSchedule(double peak, int warmupSteps, int totalSteps, Decay decay) {

    /** What happens after warmup. */
    public enum Decay {
        CONSTANT,
        LINEAR,
        COSINE;

        public static Decay parse(String s) {
            try {
                return valueOf(s.trim().toUpperCase(Locale.ROOT));
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException(
                        "unknown schedule '" + s + "' (expected constant, linear or cosine)");
            }
        }
    }

    public LrSchedule {
        if (!(peak >= 0) || !Double.isFinite(peak)) {
            throw new IllegalArgumentException("learning rate must be finite and >= 0, got " + peak);
        }
        if (warmupSteps < 0 || totalSteps < 1 || warmupSteps > totalSteps) {
            throw new IllegalArgumentException(
                    "warmup " + warmupSteps + " must lie in [0, total steps " + totalSteps + "]");
        }
    }

    /** {@code lr} at every one of {@code steps} steps: no warmup, no decay. */
    public static LrSchedule constant(double lr, int steps) {
        return new LrSchedule(lr, 0, steps, Decay.CONSTANT);
    }

    /** The rate for 0-based step {@code step}. */
    public double at(long step) {
        if (step < warmupSteps) {
            return peak * step / Math.max(1, warmupSteps);
        }
        double progress = (double) (step - warmupSteps) / Math.max(1, totalSteps - warmupSteps);
        return switch (decay) {
            case CONSTANT -> peak;
            case LINEAR -> peak * Math.max(0, 1 - progress);
            case COSINE -> peak * Math.max(0, 0.5 * (1 + Math.cos(Math.PI * Math.min(1, progress))));
        };
    }
}
