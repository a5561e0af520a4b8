package io.sbora4j.bench;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sbora4j.tensor.DType;
import io.sbora4j.tensor.Tensor;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Assertions;
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

    @ParameterizedTest
    @ValueSource(strings = {"f32", "bf16"})
    void mergeBenchTakesADeviceAndADtype(String dtype) {
        MergeBench b = new MergeBench();
        b.method = "sbora-fb";
        b.d = D;
        b.r = R;
        b.device = "cpu";
        b.dtype = dtype;
        b.setup();
        try {
            assertEquals(
                    dtype.equals("bf16") ? DType.BF16 : DType.F32, b.weight().dtype());
            float[] before = b.weight().toFloatArray();
            assertTrue(Float.isFinite(b.mergeUnmerge()));
            float[] after = b.weight().toFloatArray();
            for (int i = 0; i < before.length; i++) {
                assertEquals(before[i], after[i], dtype.equals("bf16") ? 2e-2 : 1e-5, "W[" + i + "]");
            }
        } finally {
            b.tearDown();
        }
    }

    @Test
    void mergeBenchRefusesDoraOnBf16WithAReason() {
        MergeBench b = new MergeBench();
        b.method = "dora";
        b.d = D;
        b.r = R;
        b.dtype = "bf16";
        IllegalArgumentException e = Assertions.assertThrows(IllegalArgumentException.class, b::setup);
        assertTrue(e.getMessage().contains("f32"), e.getMessage());
        b.tearDown(); // as JMH may call it after a failed setup
    }

    @ParameterizedTest
    @ValueSource(strings = {"gather", "scatter", "gather-gemm", "gemm-scatter"})
    void gatherScatterKernelsComputeWhatTheyName(String kernel) {
        GatherScatterBench b = new GatherScatterBench();
        b.kernel = kernel;
        b.tokens = TOKENS;
        b.d = D;
        b.r = R;
        b.setup();
        try {
            int[] idx = b.indices().toIntArray();
            assertEquals(R, Arrays.stream(idx).distinct().count(), "distinct indices");
            float[] x = b.input() == null ? null : b.input().toFloatArray();
            float[] g = b.gathered() == null ? null : b.gathered().toFloatArray();
            float[] f = b.factor() == null ? null : b.factor().toFloatArray(); // B: d x r
            float[] c0 = b.destination() == null ? null : b.destination().toFloatArray();
            b.launch();
            double a = GatherScatterBench.LAUNCHES * 1e-3; // every launch adds alpha·(...) once more
            switch (kernel) {
                case "gather" -> {
                    float[] out = b.gathered().toFloatArray();
                    for (int t = 0; t < TOKENS; t++) {
                        for (int j = 0; j < R; j++) {
                            assertEquals(x[t * D + idx[j]], out[t * R + j], "g[" + t + "," + j + "]");
                        }
                    }
                }
                case "scatter" -> {
                    float[] c = b.destination().toFloatArray();
                    float[] expected = c0.clone();
                    for (int t = 0; t < TOKENS; t++) {
                        for (int j = 0; j < R; j++) {
                            expected[t * D + idx[j]] += (float) (a * g[t * R + j]);
                        }
                    }
                    assertArrayEquals(expected, c, 1e-5f);
                }
                case "gather-gemm" -> { // c += a · x[:, idx] · Bᵀ
                    float[] c = b.destination().toFloatArray();
                    for (int t = 0; t < TOKENS; t++) {
                        for (int n = 0; n < D; n++) {
                            double sum = 0;
                            for (int j = 0; j < R; j++) {
                                sum += x[t * D + idx[j]] * f[n * R + j];
                            }
                            assertEquals(c0[t * D + n] + a * sum, c[t * D + n], 1e-5, "c[" + t + "," + n + "]");
                        }
                    }
                }
                case "gemm-scatter" -> { // dx[:, idx] += a · dy · B
                    float[] c = b.destination().toFloatArray();
                    float[] expected = c0.clone();
                    for (int t = 0; t < TOKENS; t++) {
                        for (int j = 0; j < R; j++) {
                            double sum = 0;
                            for (int k = 0; k < D; k++) {
                                sum += x[t * D + k] * f[k * R + j];
                            }
                            expected[t * D + idx[j]] += (float) (a * sum);
                        }
                    }
                    assertArrayEquals(expected, c, 1e-5f);
                }
                default -> throw new AssertionError(kernel);
            }
        } finally {
            b.tearDown();
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"gather", "scatter", "gather-gemm", "gemm-scatter"})
    void gatherScatterKernelsRunInBf16(String kernel) {
        GatherScatterBench b = new GatherScatterBench();
        b.kernel = kernel;
        b.dtype = "bf16";
        b.tokens = TOKENS;
        b.d = D;
        b.r = R;
        b.setup();
        try {
            b.launch();
            Tensor out = kernel.equals("gather") ? b.gathered() : b.destination();
            assertEquals(DType.BF16, out.dtype());
            for (float v : out.toFloatArray()) {
                assertTrue(Float.isFinite(v), kernel + " wrote " + v);
            }
        } finally {
            b.tearDown();
        }
    }

    @Test
    void gatherScatterBenchRepeatsASeededBlockAboveTileRows() {
        GatherScatterBench b = new GatherScatterBench();
        b.kernel = "gather";
        b.tokens = GatherScatterBench.TILE_ROWS + 3;
        b.d = 8;
        b.r = 2;
        b.setup();
        try {
            float[] x = b.input().toFloatArray();
            int row = 8;
            for (int i = 0; i < 3; i++) {
                for (int k = 0; k < 8; k++) {
                    assertEquals(x[i * row + k], x[(GatherScatterBench.TILE_ROWS + i) * row + k]);
                }
            }
            assertTrue(Arrays.stream(toDoubles(x)).anyMatch(v -> v != 0), "seeded values");
            b.launch();
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
                        yy += x[t * D + k] * w[j * D + k]; // y = x · Wᵀ
                        dd += dy[t * D + k] * w[k * D + j]; // dx = dy · W
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

    @ParameterizedTest
    @ValueSource(strings = {"f32", "nf4"})
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
            Assertions.assertTrue(Arrays.stream(toDoubles(deq)).anyMatch(v -> v != 0), "dequantised values");
            b.copyF32();
        } finally {
            b.tearDown();
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"base", "lora", "sbora-fa", "sbora-fb"})
    void trainingStepTrainsAndLeavesZeroedGradients(String method) {
        TrainingStepBench b = new TrainingStepBench();
        b.method = method;
        b.shape = "smoke";
        b.r = R;
        b.setup();
        try {
            List<float[]> before =
                    b.trainable().stream().map(Tensor::toFloatArray).toList();
            float loss = b.step();
            assertTrue(Float.isFinite(loss) && loss > 0, "loss " + loss);
            for (int i = 0; i < before.size(); i++) {
                Tensor t = b.trainable().get(i);
                assertNotNull(t.grad(), t.name() + " received no gradient");
                float[] g = t.grad().toFloatArray();
                assertArrayEquals(new float[g.length], g, t.name() + " gradient not zeroed after the step");
                if (!(method.equals("lora") && i % 2 == 0)) { // LoRA's A (A, B per layer) moves once B is non-zero
                    assertFalse(Arrays.equals(before.get(i), t.toFloatArray()), t.name() + " was not updated");
                }
            }
            assertTrue(Float.isFinite(b.step()), "a second step");
            assertEquals(2 * 8, b.tokensPerStep());
        } finally {
            b.tearDown();
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"f32", "bf16"})
    void llamaStepBenchTrains(String dtype) {
        LlamaStepBench b = new LlamaStepBench();
        b.dtype = dtype;
        b.hidden = 32;
        b.intermediate = 48;
        b.layers = 1;
        b.batch = 2;
        b.seq = 8;
        b.r = 4;
        b.setup();
        try {
            float first = b.trainStep(), second = b.trainStep();
            assertTrue(Float.isFinite(first) && Float.isFinite(second), first + ", " + second);
            assertTrue(second != first, "the step updates the adapters");
        } finally {
            b.tearDown();
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"f32", "bf16"})
    void bf16GemmBenchComputesBothProducts(String dtype) {
        Bf16GemmBench b = new Bf16GemmBench();
        b.dtype = dtype;
        b.shape = "24x40";
        b.tokens = 8;
        b.setup();
        try {
            Tensor dx = b.forwardBackward();
            assertEquals(BenchTensors.dtype(dtype), dx.dtype());
            Assertions.assertTrue(Arrays.stream(toDoubles(dx.toFloatArray())).anyMatch(v -> v != 0), "dx");
        } finally {
            b.tearDown();
        }
    }

    @Test
    void trainingStepGemmsAreTheStepsShapes() {
        // smoke: hidden 32, intermediate 48, 2 layers, 4 heads / 2 KV heads (KV width 16), vocab 64, 2 x 8 tokens
        Map<String, Integer> counts = new LinkedHashMap<>();
        for (String method : List.of("base", "lora", "sbora-fa", "sbora-fb")) {
            TrainingStepBench b = new TrainingStepBench();
            b.method = method;
            b.shape = "smoke";
            b.r = R;
            b.setup();
            try {
                assertEquals(b.gemms().size(), b.gemmsOnly());
                for (TrainingStepBench.Gemm g : b.gemms()) {
                    int m = g.c().dim(0), n = g.c().dim(1);
                    int k = g.transA() ? g.a().dim(0) : g.a().dim(1);
                    assertEquals(m, g.transA() ? g.a().dim(1) : g.a().dim(0), method + ": rows of op(a)");
                    assertEquals(k, g.transB() ? g.b().dim(1) : g.b().dim(0), method + ": inner dimension");
                    assertEquals(n, g.transB() ? g.b().dim(0) : g.b().dim(1), method + ": columns of op(b)");
                    assertTrue(g.a() != g.c() && g.b() != g.c(), method + ": no operand aliases the result");
                }
                counts.put(method, b.gemms().size());
            } finally {
                b.tearDown();
            }
        }
        // 7 projections x 2 layers, forward and dx each, and the head's two; adapters: layer 0's q, k, v take no dx
        int frozen = 14 + 11 + 2;
        assertEquals(
                Map.of(
                        "base",
                        30,
                        "lora",
                        frozen + 14 * 5 + 11,
                        "sbora-fa",
                        frozen + 14 * 2 + 11,
                        "sbora-fb",
                        frozen + 14 * 2 + 11),
                counts);
    }

    @Test
    void stepCpuTimeRunsTheStep() {
        StepCpuTime.main(new String[] {"smoke", "sbora-fb", "2", "1"});
    }

    @Test
    void bf16PairsTimeBothTypes() {
        Bf16Pairs.Pairs step = Bf16Pairs.steps(2, () -> {
            LlamaStepBench b = new LlamaStepBench();
            b.hidden = 32;
            b.intermediate = 48;
            b.layers = 1;
            b.batch = 2;
            b.seq = 8;
            b.r = 4;
            return b;
        });
        Bf16Pairs.Pairs gemm = Bf16Pairs.gemms(2, 8, "24x40");
        for (Bf16Pairs.Pairs p : List.of(step, gemm)) {
            assertEquals(2, p.ratios().length);
            assertTrue(Arrays.stream(p.ratios()).allMatch(r -> r > 0 && Double.isFinite(r)), p.summary());
        }
    }

    private static double[] toDoubles(float[] v) {
        double[] d = new double[v.length];
        for (int i = 0; i < v.length; i++) {
            d[i] = v[i];
        }
        return d;
    }

    @ParameterizedTest
    @ValueSource(strings = {"sbora-fa", "sbora-fb", "lora"})
    void adapterSwapBenchRestoresTheWeightBitForBit(String method) {
        AdapterSwapBench b = new AdapterSwapBench();
        b.method = method;
        b.d = D;
        b.r = R;
        b.setup();
        try {
            float[] before = b.weight().toFloatArray();
            b.layer().swapIn("x");
            assertFalse(Arrays.equals(before, b.weight().toFloatArray()), "swapIn changed nothing");
            b.layer().swapOut();
            b.swapInOut();
            assertArrayEquals(before, b.weight().toFloatArray());
            assertTrue(Float.isFinite(b.mergeUnmerge()));
        } finally {
            b.tearDown();
        }
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 3, 8})
    void mixedBatchBenchRoutesEverySequenceThroughItsAdapter(int adapters) {
        MixedBatchBench b = new MixedBatchBench();
        b.adapters = adapters;
        b.d = D;
        b.sequences = 8;
        b.seq = 2;
        b.r = R;
        b.setup();
        try {
            assertTrue(Float.isFinite(b.mixed()) && Float.isFinite(b.merged()) && Float.isFinite(b.single()));
            assertTrue(Float.isFinite(b.mixedPathOnly()) && Float.isFinite(b.singlePathOnly()));
            float[] mixed;
            try (var open = b.routing().open()) {
                mixed = b.layer().forward(b.input()).toFloatArray();
            }
            float[] x = b.input().toFloatArray();
            for (int row = 0; row < 16; row++) {
                Tensor xr = Tensor.of(b.input().device(), Arrays.copyOfRange(x, row * D, (row + 1) * D), 1, D);
                float[] alone =
                        b.layer().forward(xr, b.routing().perRow().get(row)).toFloatArray();
                for (int j = 0; j < D; j++) {
                    assertEquals(alone[j], mixed[row * D + j], 1e-4, "row " + row + ", column " + j);
                }
            }
            float[] merged = b.mergedLayer().forward(b.input()).toFloatArray();
            float[] single = b.layer().forward(b.input(), "a0").toFloatArray();
            for (int i = 0; i < merged.length; i++) {
                assertEquals(single[i], merged[i], 1e-4, "merged a0 differs from unmerged a0 at " + i);
            }
        } finally {
            b.tearDown();
        }
    }

    @Test
    void generationBodiesRunAndTheCacheDecodesAsTheWholeSequence() {
        GenerationBench b = new GenerationBench();
        b.hidden = 32;
        b.layers = 1;
        b.length = 6;
        b.prompt = 5;
        b.newTokens = 3;
        b.cached = true;
        b.setup();
        try {
            float step = b.decodeStep();
            assertEquals(step, b.decodeStep(), "each step runs at the same length");
            int withCache = b.generate();
            b.cached = false;
            assertEquals(withCache, b.generate());
        } finally {
            b.tearDown();
        }
    }
}
