package io.sbora4j.bench;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sbora4j.tensor.Tensor;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Runs each benchmark's setup, body and teardown directly (not through JMH) at tiny sizes, so that a build proves
 * the benchmark code works without measuring anything.
 */
class BenchmarkBodiesTest {

    private static final int D = 64;
    private static final int TOKENS = 8;
    private static final int R = 4;

    @ParameterizedTest
    @ValueSource(strings = {"base", "lora", "lora-fa", "dora", "sbora-fa", "sbora-fb"})
    void adapterLayerStepRunsAndLeavesZeroedGradients(String method) {
        AdapterLayerBench b = new AdapterLayerBench();
        b.method = method;
        b.d = D;
        b.tokens = TOKENS;
        b.r = R;
        b.setup();
        try {
            float first = b.forwardBackward();
            float second = b.forwardBackward();
            assertTrue(Float.isFinite(first) && first != 0f, "dx[0,0] = " + first);
            assertEquals(first, second, "invocations must do the same work on the same data");
            for (Tensor t : b.trainable()) {
                assertNotNull(t.grad(), t.name() + " received no gradient");
                float[] g = t.grad().toFloatArray();
                assertArrayEquals(new float[g.length], g, t.name() + " gradient not zeroed after the step");
            }
            assertEquals(method.equals(AdapterLayerBench.BASE), b.trainable().isEmpty());
        } finally {
            b.tearDown();
        }
    }

    @Test
    void baseStepComputesTheInputGradient() {
        AdapterLayerBench b = new AdapterLayerBench();
        b.method = AdapterLayerBench.BASE;
        b.d = D;
        b.tokens = TOKENS;
        b.r = R;
        b.setup();
        try {
            float[] dy = b.outputGradient().toFloatArray();
            float[] w = b.baseLayer().weight().toFloatArray();
            double expected = 0; // dx[0, 0] = Σ_j dy[0, j] · W[j, 0]
            for (int j = 0; j < D; j++) {
                expected += dy[j] * w[j * D];
            }
            assertEquals(expected, b.forwardBackward(), 1e-4);
            assertFalse(b.input().requiresGrad(), "the input's memory itself is no leaf collecting gradients");
        } finally {
            b.tearDown();
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"lora", "lora-fa", "dora", "sbora-fa", "sbora-fb"})
    void mergeUnmergeRestoresTheWeight(String method) {
        MergeBench b = new MergeBench();
        b.method = method;
        b.d = D;
        b.r = R;
        b.setup();
        try {
            float[] before = b.weight().toFloatArray();
            b.adapter().merge(b.weight());
            assertFalse(Arrays.equals(before, b.weight().toFloatArray()), "merge changed nothing");
            b.adapter().unmerge(b.weight());
            b.mergeUnmerge();
            float[] after = b.weight().toFloatArray();
            for (int i = 0; i < before.length; i++) {
                assertEquals(before[i], after[i], 1e-5, "W[" + i + "]");
            }
        } finally {
            b.tearDown();
        }
    }

    @Test
    void gemmBenchComputesBothProducts() {
        GemmBench b = new GemmBench();
        b.d = D;
        b.tokens = TOKENS;
        b.setup();
        try {
            b.forwardBackwardGemms();
            MemorySegment[] s = b.buffers(); // w, x, dy, y, dx
            float[] w = floats(s[0]), x = floats(s[1]), dy = floats(s[2]), y = floats(s[3]), dx = floats(s[4]);
            for (int t = 0; t < TOKENS; t++) {
                for (int j = 0; j < D; j++) {
                    double yy = 0, dd = 0;
                    for (int k = 0; k < D; k++) {
                        yy += x[t * D + k] * w[j * D + k];   // y = x · Wᵀ
                        dd += dy[t * D + k] * w[k * D + j];  // dx = dy · W
                    }
                    assertEquals(yy, y[t * D + j], 1e-4, "y[" + t + "," + j + "]");
                    assertEquals(dd, dx[t * D + j], 1e-4, "dx[" + t + "," + j + "]");
                }
            }
        } finally {
            b.tearDown();
        }
    }

    private static float[] floats(MemorySegment s) {
        return s.toArray(ValueLayout.JAVA_FLOAT);
    }

    @org.junit.jupiter.params.ParameterizedTest
    @org.junit.jupiter.params.provider.ValueSource(strings = {"f32", "nf4"})
    void quantBenchBodiesRun(String base) {
        QuantBench b = new QuantBench();
        b.base = base;
        b.method = "sbora-fa";
        b.d = D;
        b.tokens = 8;
        b.r = 4;
        b.setup();
        try {
            b.layerStep();
            float[] deq = b.dequantize().toFloatArray();
            org.junit.jupiter.api.Assertions.assertTrue(java.util.Arrays.stream(toDoubles(deq)).anyMatch(v -> v != 0),
                    "dequantised values");
            b.copyF32();
        } finally {
            b.tearDown();
        }
    }

    private static double[] toDoubles(float[] v) {
        double[] d = new double[v.length];
        for (int i = 0; i < v.length; i++) {
            d[i] = v[i];
        }
        return d;
    }
}
