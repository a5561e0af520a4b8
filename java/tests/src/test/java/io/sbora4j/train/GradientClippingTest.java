package io.sbora4j.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sbora4j.optim.GradientClipping;
import io.sbora4j.tensor.Device;
import io.sbora4j.tensor.Tensor;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** Clipping by the global gradient norm, as the trainer applies it before each step. */
class GradientClippingTest {

    private static Tensor param(float... grad) {
        Tensor p = Tensor.zeros(Device.CPU, grad.length).requiresGrad(true);
        p.setGrad(Tensor.of(Device.CPU, grad, grad.length));
        return p;
    }

    private static double norm(List<Tensor> ps) {
        double sq = 0;
        for (Tensor p : ps) {
            for (float g : p.grad().toFloatArray()) {
                sq += (double) g * g;
            }
        }
        return Math.sqrt(sq);
    }

    @Test
    void theNormIsTheL2NormOfAllGradientsTogether() {
        // 3² + 4² + 12² = 169
        List<Tensor> ps = List.of(param(3, 4), param(12));
        assertEquals(13.0, GradientClipping.clip(ps, 100), 1e-12);
        assertEquals(13.0, GradientClipping.clip(List.of(param(0, 3, 0), param(4, 0), param(-12)), 0), 1e-12);
    }

    @Test
    void parametersWithoutAGradientAreSkipped() {
        Tensor none = Tensor.zeros(Device.CPU, 3).requiresGrad(true);
        assertEquals(5.0, GradientClipping.clip(List.of(param(3, 4), none), 1), 1e-6);
        assertNull(none.grad());
    }

    @Test
    void clippedGradientsHaveTheMaxNormAndKeepTheirDirection() {
        List<Tensor> ps = List.of(param(3, 4), param(12));
        double before = GradientClipping.clip(ps, 6.5);
        assertEquals(13.0, before, 1e-12, "returns the norm before clipping");
        assertEquals(6.5, norm(ps), 1e-5);
        assertArrayEquals(new float[] {1.5f, 2f}, ps.get(0).grad().toFloatArray(), 1e-5f);
        assertArrayEquals(new float[] {6f}, ps.get(1).grad().toFloatArray(), 1e-5f);
    }

    @Test
    void manyParametersClipToTheMaxNorm() {
        List<Tensor> ps = new ArrayList<>();
        SplittableRandom rng = new SplittableRandom(4);
        for (int k = 0; k < 7; k++) {
            float[] g = new float[13 + k];
            for (int i = 0; i < g.length; i++) {
                g[i] = (float) (rng.nextDouble() * 10 - 5);
            }
            ps.add(param(g));
        }
        double before = norm(ps);
        assertEquals(before, GradientClipping.clip(ps, 1.0), 1e-4);
        assertEquals(1.0, norm(ps), 1e-5);
    }

    @Test
    void belowTheThresholdNothingChanges() {
        List<Tensor> ps = List.of(param(3, 4), param(12));
        assertEquals(13.0, GradientClipping.clip(ps, 13.5), 1e-12);
        assertArrayEquals(new float[] {3, 4}, ps.get(0).grad().toFloatArray());
        assertArrayEquals(new float[] {12}, ps.get(1).grad().toFloatArray());
    }

    @Test
    void maxNormZeroDisablesClipping() {
        List<Tensor> ps = List.of(param(30, 40));
        assertEquals(50.0, GradientClipping.clip(ps, 0), 1e-12);
        assertArrayEquals(new float[] {30, 40}, ps.get(0).grad().toFloatArray());
    }

    @Test
    void aNonFiniteGradientIsReportedAndLeftAlone() {
        List<Tensor> ps = List.of(param(Float.NaN, 1), param(100));
        double n = GradientClipping.clip(ps, 1);
        assertTrue(Double.isNaN(n));
        assertEquals(100f, ps.get(1).grad().toFloatArray()[0]);
        assertTrue(Double.isInfinite(GradientClipping.clip(List.of(param(Float.POSITIVE_INFINITY)), 1)));
    }
}
