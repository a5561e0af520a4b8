package io.sbora4j.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sbora4j.autograd.Autograd;
import io.sbora4j.backend.Backend;
import io.sbora4j.backend.BackendOptions;
import io.sbora4j.backend.Backends;
import io.sbora4j.cuda.ffi.sbora_cuda_h;
import io.sbora4j.nn.Linear;
import io.sbora4j.nn.LlamaConfig;
import io.sbora4j.nn.LlamaModel;
import io.sbora4j.peft.AdaptedLinear;
import io.sbora4j.peft.AdapterConfig;
import io.sbora4j.peft.AdapterMethod;
import io.sbora4j.peft.AdapterMethods;
import io.sbora4j.quant.MergeMode;
import io.sbora4j.quant.QuantizedLinear;
import io.sbora4j.tensor.DType;
import io.sbora4j.tensor.Device;
import io.sbora4j.tensor.MemoryScope;
import io.sbora4j.tensor.Tensor;
import io.sbora4j.testing.CudaAvailability;
import io.sbora4j.testing.Rand;
import java.lang.foreign.Arena;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The bf16 launchers, the fused SBoRA GEMMs, cublasGemmEx and the memory pool of the cuda backend against the
 * reference backend (whose fused-GEMM loops are the oracle), on awkward shapes. Results of one f32 computation
 * rounded once are compared bit for bit; sums of products within rounding. Skipped without a usable GPU, except in
 * the build's run on the emulated device ({@link CudaAvailability}).
 */
@Tag("cuda")
class CudaMixedPrecisionTest {

    /** The default cuda device (a handle: creating it loads nothing). */
    private static final Device CUDA = Backends.device("cuda");

    private static Backend cuda;
    private static final Backend REF = Backends.of(Device.REFERENCE);

    /** (rows, cols, r): one row, r = 1, r = cols, odd sizes, sizes past one tile (64) and one k step (16). */
    private static final int[][] SHAPES = {
        {1, 1, 1}, {1, 37, 37}, {7, 33, 1}, {33, 65, 17}, {65, 129, 64}, {130, 200, 100}, {3, 1000, 64}
    };

    private MemoryScope scope;

    @BeforeEach
    void gpu() {
        CudaAvailability.assumeUsable();
        cuda = Backends.of(CUDA);
        scope = MemoryScope.open(); // device tensors live in a scope (or an arena of their own)
    }

    @AfterEach
    void closeScope() {
        if (scope != null) {
            scope.close();
            scope = null;
        }
    }

    private static Tensor ref(SplittableRandom rng, DType t, int... dims) {
        int n = 1;
        for (int d : dims) {
            n *= d;
        }
        return Tensor.of(Device.REFERENCE, t, Rand.floats(rng, n, 1), dims);
    }

    private static void close(String what, Tensor expected, Tensor actual, double tol) {
        assertEquals(expected.dtype(), actual.dtype(), what + ": type");
        float[] e = expected.toFloatArray(), a = actual.toFloatArray();
        assertEquals(e.length, a.length, what);
        for (int i = 0; i < e.length; i++) {
            boolean ok = tol == 0
                    ? Float.floatToIntBits(e[i]) == Float.floatToIntBits(a[i])
                    : Math.abs(e[i] - a[i]) <= tol * Math.max(1, Math.abs(e[i]));
            assertTrue(ok, what + " at " + i + ": " + e[i] + " vs " + a[i]);
        }
    }

    @Test
    void conversionsRoundToNearestEvenAndKeepSpecials() {
        float[] v = {
            0f,
            -0f,
            1f,
            1.00390625f /* a tie: rounds to 1 */,
            1.01171875f /* a tie: rounds up */,
            Float.MAX_VALUE,
            Float.MIN_VALUE,
            Float.POSITIVE_INFINITY,
            Float.NEGATIVE_INFINITY,
            3.14159f,
            -2.7e-20f
        };
        Tensor f = Tensor.of(Device.REFERENCE, v, v.length);
        Tensor h = Tensor.empty(Device.REFERENCE, DType.BF16, v.length);
        REF.convert(f, h);
        Tensor hc = Tensor.empty(CUDA, DType.BF16, v.length);
        cuda.convert(f.to(CUDA), hc);
        close("f32 -> bf16", h, hc, 0);
        Tensor back = Tensor.zeros(CUDA, v.length);
        cuda.convert(hc, back);
        close("bf16 -> f32", Tensor.of(Device.REFERENCE, h.toFloatArray(), v.length), back, 0);
        Tensor nan = Tensor.of(CUDA, new float[] {Float.NaN}, 1);
        Tensor nanH = Tensor.empty(CUDA, DType.BF16, 1);
        cuda.convert(nan, nanH);
        assertTrue(Float.isNaN(nanH.toFloatArray()[0]), "NaN stays NaN");
    }

    @Test
    void bf16ElementwiseGathersAndIndexAddsAreExact() {
        SplittableRandom rng = new SplittableRandom(21);
        for (int[] s : SHAPES) {
            int rows = s[0], cols = s[1], r = Math.min(s[2], cols);
            Tensor a = ref(rng, DType.BF16, rows, cols), b = ref(rng, DType.BF16, rows, cols);
            Tensor f = ref(rng, DType.F32, rows, cols);
            for (String op : new String[] {"add", "sub", "mul", "div", "scale", "axpy16", "axpy32"}) {
                Tensor out = Tensor.empty(Device.REFERENCE, op.equals("axpy32") ? DType.F32 : DType.BF16, rows, cols);
                if (op.startsWith("axpy")) {
                    REF.copy(op.equals("axpy32") ? f : b, out);
                }
                Tensor outC = out.to(CUDA);
                Tensor ac = a.to(CUDA), bc = b.to(CUDA), fc = f.to(CUDA);
                switch (op) {
                    case "add" -> {
                        REF.add(a, b, out);
                        cuda.add(ac, bc, outC);
                    }
                    case "sub" -> {
                        REF.sub(a, b, out);
                        cuda.sub(ac, bc, outC);
                    }
                    case "mul" -> {
                        REF.mul(a, b, out);
                        cuda.mul(ac, bc, outC);
                    }
                    case "div" -> {
                        REF.div(a, b, out);
                        cuda.div(ac, bc, outC);
                    }
                    case "scale" -> {
                        REF.scale(a, -0.3f, out);
                        cuda.scale(ac, -0.3f, outC);
                    }
                    case "axpy16" -> {
                        REF.axpy(0.7f, f, out);
                        cuda.axpy(0.7f, fc, outC);
                    }
                    default -> {
                        REF.axpy(0.7f, a, out);
                        cuda.axpy(0.7f, ac, outC);
                    }
                }
                close(op + " " + rows + "x" + cols, out, outC, 0);
            }
            assertEquals(REF.countNonFinite(a), cuda.countNonFinite(a.to(CUDA)));
            assertEquals(REF.sum(a), cuda.sum(a.to(CUDA)), 1e-9 * rows * cols);

            Tensor idx = Tensor.ofInts(Device.REFERENCE, Rand.distinct(rng, cols, r), r);
            Tensor g = Tensor.empty(Device.REFERENCE, DType.BF16, rows, r);
            Tensor gc = Tensor.empty(CUDA, DType.BF16, rows, r);
            REF.gatherCols(a, idx, g);
            cuda.gatherCols(a.to(CUDA), idx.to(CUDA), gc);
            close("gatherCols bf16", g, gc, 0);
            Tensor src = ref(rng, DType.F32, rows, r); // an f32 factor merged into a bf16 weight
            Tensor dst = a, dstC = a.to(CUDA);
            REF.indexAddCols(dst, idx, src, 0.5f);
            cuda.indexAddCols(dstC, idx.to(CUDA), src.to(CUDA), 0.5f);
            close("indexAddCols bf16 += f32", dst, dstC, 0);
            int rr = Math.min(s[2], rows);
            Tensor ridx = Tensor.ofInts(Device.REFERENCE, Rand.distinct(rng, rows, rr), rr);
            Tensor rsrc = ref(rng, DType.F32, rr, cols);
            Tensor rdst = b, rdstC = b.to(CUDA);
            REF.indexAddRows(rdst, ridx, rsrc, -1.5f);
            cuda.indexAddRows(rdstC, ridx.to(CUDA), rsrc.to(CUDA), -1.5f);
            close("indexAddRows bf16 += f32", rdst, rdstC, 0);
        }
    }

    @Test
    void typedLaunchersEqualTheF32LaunchersOnF32() {
        SplittableRandom rng = new SplittableRandom(22);
        int n = 10_001;
        Tensor x = Rand.tensor(rng, CUDA, n), y1 = Rand.tensor(rng, CUDA, n);
        Tensor y2 = y1.copyInto(Arena.ofAuto(), CUDA);
        CudaRuntime.check(sbora_cuda_h.sbc_axpy(n, 0.3f, x.data(), y1.data(), CudaRuntime.stream()), "axpy");
        CudaRuntime.check(
                sbora_cuda_h.sbc_axpy_t(
                        n, 0.3f, x.data(), sbora_cuda_h.SBC_F32, y2.data(), sbora_cuda_h.SBC_F32, CudaRuntime.stream()),
                "axpy_t");
        close("axpy_t == axpy", y1.to(Device.REFERENCE), y2.to(Device.REFERENCE), 0);
    }

    @ParameterizedTest
    @ValueSource(booleans = {true, false})
    void fusedSboraGemmsMatchTheReferenceLoops(boolean tensorCores) {
        // bf16 runs on the tensor-core form by default, on the SIMT form without tensor cores; f32 on SIMT always.
        Backend gpu = Backends.open("cuda", BackendOptions.DEFAULTS.withTensorCores(tensorCores));
        Device on = gpu.device();
        SplittableRandom rng = new SplittableRandom(23);
        for (DType type : new DType[] {DType.F32, DType.BF16}) {
            double tol = type == DType.F32 ? 1e-4 : 1e-2;
            for (int[] s : SHAPES) {
                int rows = s[0], cols = s[1], r = Math.min(s[2], cols), n = s[1] + 3;
                Tensor x = ref(rng, type, rows, cols);
                Tensor idx = Tensor.ofInts(Device.REFERENCE, Rand.distinct(rng, cols, r), r);
                for (boolean transF : new boolean[] {true, false}) {
                    String what = (tensorCores ? "" : "[simt] ") + type + " " + rows + "x" + cols + " r=" + r
                            + (transF ? " fᵀ" : " f");
                    // gather GEMM: c (rows x n) += s·x[:, idx]·op(f)
                    Tensor f = transF ? ref(rng, DType.F32, n, r) : ref(rng, DType.F32, r, n);
                    Tensor c = ref(rng, type, rows, n), cC = c.to(on);
                    Tensor xs = Tensor.empty(Device.REFERENCE, type, rows, r);
                    Tensor xsC = Tensor.empty(on, type, rows, r);
                    REF.gatherGemm(x, idx, f, transF, 0.5f, c, xs);
                    gpu.gatherGemm(x.to(on), idx.to(on), f.to(on), transF, 0.5f, cC, xsC);
                    close("gatherGemm " + what, c, cC, tol);
                    close("gatherGemm xs " + what, xs, xsC, 0);
                    // scatter GEMM: c (rows x cols)[:, idx] += s·a·op(f), a: rows x k
                    int k = s[2] + 5;
                    Tensor a = ref(rng, type, rows, k);
                    Tensor g = transF ? ref(rng, DType.F32, r, k) : ref(rng, DType.F32, k, r);
                    Tensor d = ref(rng, type, rows, cols), dC = d.to(on);
                    REF.gemmScatter(a, g, transF, idx, -2f, d);
                    gpu.gemmScatter(a.to(on), g.to(on), transF, idx.to(on), -2f, dC);
                    close("gemmScatter " + what, d, dC, tol);
                }
            }
        }
    }

    @Test
    void bf16GemmAccumulatesInF32() {
        SplittableRandom rng = new SplittableRandom(24);
        for (int[] s : new int[][] {{1, 1, 1}, {5, 7, 3}, {33, 65, 129}, {256, 512, 64}}) {
            int m = s[0], n = s[1], k = s[2];
            for (boolean ta : new boolean[] {false, true}) {
                for (boolean tb : new boolean[] {false, true}) {
                    Tensor a = ta ? ref(rng, DType.BF16, k, m) : ref(rng, DType.BF16, m, k);
                    Tensor b = tb ? ref(rng, DType.F32, n, k) : ref(rng, DType.F32, k, n); // mixed: b is rounded
                    for (DType ct : new DType[] {DType.BF16, DType.F32}) {
                        Tensor c = ref(rng, ct, m, n), cC = c.to(CUDA);
                        REF.gemm(ta, tb, 0.5f, a, b, 1f, c);
                        cuda.gemm(ta, tb, 0.5f, a.to(CUDA), b.to(CUDA), 1f, cC);
                        close(
                                "gemm " + m + "x" + n + "x" + k + " " + ta + tb + " -> " + ct,
                                c,
                                cC,
                                ct == DType.F32 ? 1e-4 : 1e-2);
                    }
                }
            }
        }
    }

    @ParameterizedTest
    @MethodSource("io.sbora4j.testing.Methods#bf16Capable")
    void bf16AdaptedLayerEqualsTheReference(AdapterMethod method) {
        adaptedLayerEqualsTheReference(method, DType.BF16);
    }

    /** The other cuda route of SBoRA (a gather, then cuBLAS), in both types. */
    @ParameterizedTest
    @MethodSource("io.sbora4j.testing.Methods#sbora")
    void unfusedSboraRouteEqualsTheReference(AdapterMethod method) {
        Device unfused = Backends.open(
                        "cuda", BackendOptions.DEFAULTS.withSboraGemms(BackendOptions.SboraGemms.UNFUSED))
                .device();
        adaptedLayerEqualsTheReference(method, DType.BF16, unfused);
        adaptedLayerEqualsTheReference(method, DType.F32, unfused);
    }

    private static void adaptedLayerEqualsTheReference(AdapterMethod method, DType type) {
        adaptedLayerEqualsTheReference(method, type, CUDA);
    }

    private static void adaptedLayerEqualsTheReference(AdapterMethod method, DType type, Device gpu) {
        SplittableRandom rng = new SplittableRandom(25);
        float[] w = Rand.floats(rng, 96 * 80, 0.5), x = Rand.floats(rng, 9 * 80, 1), dy = Rand.floats(rng, 9 * 96, 1);
        List<List<Tensor>> results = new ArrayList<>();
        for (Device d : new Device[] {Device.REFERENCE, gpu}) {
            AdaptedLinear layer = AdaptedLinear.attach(
                    new Linear("l", Tensor.of(Arena.ofAuto(), d, type, w, 96, 80)),
                    AdapterConfig.of(method, 8, 16),
                    Arena.ofAuto());
            SplittableRandom init = new SplittableRandom(26);
            for (Tensor t : layer.trainable()) {
                t.copyFrom(Rand.floats(init, (int) t.numel(), 0.3));
            }
            Tensor xt = Tensor.of(d, type, x, 9, 80).requiresGrad(true);
            Tensor y = layer.forward(xt);
            Autograd.backward(y, Tensor.of(d, type, dy, 9, 96));
            List<Tensor> out =
                    new ArrayList<>(List.of(y.to(Device.REFERENCE), xt.grad().to(Device.REFERENCE)));
            for (Tensor t : layer.trainable()) {
                out.add(t.grad().to(Device.REFERENCE));
            }
            results.add(out);
        }
        for (int i = 0; i < results.get(0).size(); i++) {
            close(
                    method + " " + type + " output/gradient " + i,
                    results.get(0).get(i),
                    results.get(1).get(i),
                    type == DType.F32 ? 1e-4 : 2e-2);
        }
    }

    @Test
    void freedBlocksReturnToThePoolAndAreReused() {
        try (Arena a = Arena.ofConfined()) {
            Tensor.empty(a, CUDA, DType.F32, 1000, 1000);
        }
        long pooled = CudaMemory.pooledBytes();
        assertTrue(pooled >= 4_000_000L, "an arena's blocks go back to the pool: " + pooled);
        try (Arena a = Arena.ofConfined()) {
            Tensor t = Tensor.empty(a, CUDA, DType.F32, 1000, 1000);
            assertEquals(pooled - CudaMemory.roundedSize(4_000_000L), CudaMemory.pooledBytes(), "reused");
            assertEquals(0.0, cuda.sum(t), "a reused block is zeroed again");
        }
        assertTrue(CudaMemory.releasePool() >= 4_000_000L);
        assertEquals(0, CudaMemory.pooledBytes());
    }

    @ParameterizedTest
    @EnumSource(MergeMode.class)
    void nf4MergesOnTheGpuEqualTheReferenceBitForBit(MergeMode mode) {
        SplittableRandom rng = new SplittableRandom(27);
        float[] w = Rand.floats(rng, 40 * 96, 0.5);
        List<float[]> merged = new ArrayList<>(), restored = new ArrayList<>();
        for (Device d : new Device[] {Device.REFERENCE, CUDA}) {
            var q = QuantizedLinear.quantize(
                    new Linear("l", Tensor.of(Arena.ofAuto(), d, w, 40, 96)), mode, Arena.ofAuto());
            AdaptedLinear layer =
                    AdaptedLinear.attach(q, AdapterConfig.of(AdapterMethods.SBORA_FA, 8, 16), Arena.ofAuto());
            layer.trainable().get(0).copyFrom(Rand.floats(new SplittableRandom(28), 40 * 8, 0.3));
            float[] before = q.denseWeight().toFloatArray();
            layer.merge();
            merged.add(q.denseWeight().toFloatArray());
            layer.unmerge();
            restored.add(q.denseWeight().toFloatArray());
            assertTrue(Arrays.equals(before, restored.getLast()), d + ": unmerge restores every value");
        }
        assertTrue(Arrays.equals(merged.get(0), merged.get(1)), mode + ": merged weights differ");
    }

    @Test
    void aBf16LlamaEqualsTheReference() {
        var cfg = new LlamaConfig(259, 64, 96, 2, 4, 2, 1e-6, 10000, 64, false);
        int[] ids = {1, 7, 200, 33, 9, 12, 5, 8};
        List<float[]> logits = new ArrayList<>();
        for (Device d : new Device[] {Device.REFERENCE, CUDA}) {
            var m = LlamaModel.random(cfg, 9, d, Arena.ofAuto());
            m.useBf16Projections(Arena.ofAuto());
            logits.add(m.logits(Tensor.ofInts(d, ids, 2, 4)).toFloatArray());
        }
        close(
                "bf16 logits",
                Tensor.of(Device.REFERENCE, logits.get(0), logits.get(0).length),
                Tensor.of(Device.REFERENCE, logits.get(1), logits.get(1).length),
                2e-2);
    }
}
