package io.sbora4j.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sbora4j.optim.LrSchedule;
import io.sbora4j.optim.LrSchedule.Decay;
import org.junit.jupiter.api.Test;

/** The learning-rate schedules the trainer uses (HF's get_*_schedule_with_warmup). */
class LrScheduleTest {

    private static final double EPS = 1e-12;

    @Test
    void warmupRampsLinearlyFromZeroToThePeak() {
        for (Decay d : Decay.values()) {
            LrSchedule s = new LrSchedule(2.0, 4, 10, d);
            assertEquals(0.0, s.at(0), EPS);
            assertEquals(0.5, s.at(1), EPS);
            assertEquals(1.0, s.at(2), EPS);
            assertEquals(1.5, s.at(3), EPS);
            assertEquals(2.0, s.at(4), EPS, d + ": the peak right after warmup");
        }
    }

    @Test
    void linearDecaysToZeroAtTheTotal() {
        LrSchedule s = new LrSchedule(1.0, 4, 10, Decay.LINEAR);
        for (int step = 4; step <= 10; step++) {
            assertEquals((10.0 - step) / (10 - 4), s.at(step), EPS, "HF: max(0, (total - step) / (total - warmup))");
        }
        assertEquals(0.0, s.at(10), EPS);
        assertEquals(0.0, s.at(15), EPS, "never negative after the total");
    }

    @Test
    void cosineDecaysToZeroAtTheTotal() {
        LrSchedule s = new LrSchedule(1.0, 2, 10, Decay.COSINE);
        for (int step = 2; step <= 10; step++) {
            double progress = (step - 2) / 8.0;
            assertEquals(0.5 * (1 + Math.cos(Math.PI * progress)), s.at(step), EPS);
        }
        assertEquals(0.5, s.at(6), EPS, "half way");
        assertEquals(0.0, s.at(10), EPS);
        assertEquals(0.0, s.at(14), EPS, "stays at zero, does not come back up");
    }

    @Test
    void constantHoldsThePeakAfterWarmup() {
        LrSchedule s = new LrSchedule(3e-4, 3, 10, Decay.CONSTANT);
        for (int step = 3; step < 20; step++) {
            assertEquals(3e-4, s.at(step), EPS);
        }
    }

    @Test
    void withoutWarmupTheFirstStepUsesThePeak() {
        assertEquals(1.0, new LrSchedule(1.0, 0, 5, Decay.LINEAR).at(0), EPS);
        assertEquals(1.0, new LrSchedule(1.0, 0, 5, Decay.COSINE).at(0), EPS);
        assertEquals(0.8, new LrSchedule(1.0, 0, 5, Decay.LINEAR).at(1), EPS);
    }

    @Test
    void linearAndCosineAreMonotoneAfterWarmup() {
        for (Decay d : new Decay[] {Decay.LINEAR, Decay.COSINE}) {
            LrSchedule s = new LrSchedule(1.0, 5, 50, d);
            for (int step = 5; step < 60; step++) {
                assertTrue(s.at(step + 1) <= s.at(step), d + " at " + step);
                assertTrue(s.at(step) >= 0);
            }
        }
    }

    @Test
    void invalidSchedulesAreRejected() {
        assertThrows(IllegalArgumentException.class, () -> new LrSchedule(1, 11, 10, Decay.LINEAR));
        assertThrows(IllegalArgumentException.class, () -> new LrSchedule(1, -1, 10, Decay.LINEAR));
        assertThrows(IllegalArgumentException.class, () -> new LrSchedule(1, 0, 0, Decay.LINEAR));
        assertThrows(IllegalArgumentException.class, () -> new LrSchedule(-1, 0, 10, Decay.LINEAR));
        assertThrows(IllegalArgumentException.class, () -> new LrSchedule(Double.NaN, 0, 10, Decay.LINEAR));
        assertThrows(
                IllegalArgumentException.class, () -> new LrSchedule(Double.POSITIVE_INFINITY, 0, 10, Decay.LINEAR));
    }

    @Test
    void decayNamesParseCaseInsensitively() {
        assertEquals(Decay.COSINE, Decay.parse(" Cosine"));
        assertEquals(Decay.LINEAR, Decay.parse("linear"));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Decay.parse("exp"));
        assertTrue(e.getMessage().contains("'exp'"), e.getMessage());
    }
}
