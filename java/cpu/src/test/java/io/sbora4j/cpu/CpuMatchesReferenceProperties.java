package io.sbora4j.cpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sbora4j.backend.AdamWStep;
import io.sbora4j.backend.Backend;
import io.sbora4j.backend.BackendOptions;
import io.sbora4j.backend.Backends;
import io.sbora4j.tensor.Device;
import io.sbora4j.tensor.Tensor;
import io.sbora4j.testing.Rand;
import java.util.SplittableRandom;
import net.jqwik.api.Example;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;

/**
 * Every native kernel of the cpu backend against the reference backend, over random shapes that include the
 * awkward ones (one row, one column, sizes that are not multiples of the vector width, r = 1 and r = dimension).
 * Elementwise kernels, gathers, scatter-adds and AdamW agree bit for bit (same IEEE operations in the same order);
 * GEMM and the reductions agree within float rounding of their different summation orders.
 */
class CpuMatchesReferenceProperties {

    private static final Backend CPU = Backends.of(Device.CPU);
    private static final Backend REF = Backends.of(Device.REFERENCE);

    /** The same random tensor on both devices. */
    private record Pair(Tensor cpu, Tensor ref) {
        static Pair of(SplittableRandom rng, int... dims) {
            Tensor c = Rand.tensor(rng, Device.CPU, dims);
            return new Pair(c, c.to(Device.REFERENCE));
        }

        static Pair zeros(int... dims) {
            return new Pair(Tensor.zeros(Device.CPU, dims), Tensor.zeros(Device.REFERENCE, dims));
        }

        static Pair ints(int[] v) {
            return new Pair(Tensor.ofInts(Device.CPU, v, v.length), Tensor.ofInts(Device.REFERENCE, v, v.length));
        }

        void assertBitEqual(String what) {
            assertArrayEquals(ref.toFloatArray(), cpu.toFloatArray(), 0f, what);
        }

        void assertClose(String what, double relTol) {
            float[] a = ref.toFloatArray(), b = cpu.toFloatArray();
            for (int i = 0; i < a.length; i++) {
                double tol = relTol * Math.max(1, Math.abs(a[i]));
                assertTrue(Math.abs(a[i] - b[i]) <= tol, what + " at " + i + ": " + a[i] + " vs " + b[i]);
            }
        }
    }

    @Property(tries = 60)
    void gemmMatchesWithEitherOperandTransposed(
            @ForAll @IntRange(min = 1, max = 40) int m,
            @ForAll @IntRange(min = 1, max = 40) int n,
            @ForAll @IntRange(min = 1, max = 70) int k,
            @ForAll boolean ta,
            @ForAll boolean tb,
            @ForAll long seed) {
        SplittableRandom rng = new SplittableRandom(seed);
        Pair a = ta ? Pair.of(rng, k, m) : Pair.of(rng, m, k);
        Pair b = tb ? Pair.of(rng, n, k) : Pair.of(rng, k, n);
        Pair c = Pair.of(rng, m, n);
        CPU.gemm(ta, tb, 0.75f, a.cpu, b.cpu, 0.5f, c.cpu);
        REF.gemm(ta, tb, 0.75f, a.ref, b.ref, 0.5f, c.ref);
        c.assertClose("gemm", 1e-5 * k);
    }

    /** c = alpha·aᵀ·b with few columns and beta 0: the thin weight gradients, on their own kernel. */
    @Property(tries = 60)
    void thinWeightGradientGemmMatches(
            @ForAll @IntRange(min = 1, max = 300) int rows,
            @ForAll @IntRange(min = 1, max = 90) int m,
            @ForAll @IntRange(min = 1, max = 32) int n,
            @ForAll long seed) {
        SplittableRandom rng = new SplittableRandom(seed);
        Pair a = Pair.of(rng, rows, m), b = Pair.of(rng, rows, n), c = Pair.of(rng, m, n);
        CPU.gemm(true, false, -1.25f, a.cpu, b.cpu, 0f, c.cpu);
        REF.gemm(true, false, -1.25f, a.ref, b.ref, 0f, c.ref);
        c.assertClose("aᵀ·b", 1e-5 * rows);
    }

    /**
     * SBoRA's gather and scatter GEMMs on each route of the cpu backend (one fused kernel, a gather and OpenBLAS, and
     * the choice by shape) against the reference loops, in both forms of the factor, with and without the gathered
     * columns kept.
     */
    @Property(tries = 40)
    void sboraGemmsMatchOnEveryRoute(
            @ForAll @IntRange(min = 1, max = 200) int m,
            @ForAll @IntRange(min = 1, max = 90) int cols,
            @ForAll @IntRange(min = 1, max = 70) int rWanted,
            @ForAll @IntRange(min = 1, max = 90) int n,
            @ForAll boolean transF,
            @ForAll boolean keep,
            @ForAll long seed) {
        int r = Math.min(rWanted, cols);
        for (BackendOptions.SboraGemms route : BackendOptions.SboraGemms.values()) {
            Backend cpu = Backends.open("cpu", BackendOptions.DEFAULTS.withSboraGemms(route));
            Device d = cpu.device();
            SplittableRandom rng = new SplittableRandom(seed);
            int[] idxValues = Rand.distinct(rng, cols, r);
            Tensor idx = Tensor.ofInts(d, idxValues, r), idxRef = Tensor.ofInts(Device.REFERENCE, idxValues, r);
            // gather: c (m x n) += alpha·x[:, idx]·op(f)
            Tensor x = Rand.tensor(rng, d, m, cols), f = transF ? Rand.tensor(rng, d, n, r) : Rand.tensor(rng, d, r, n);
            Tensor c = Rand.tensor(rng, d, m, n), xs = keep ? Tensor.zeros(d, m, r) : null;
            Tensor cRef = c.to(Device.REFERENCE), xsRef = keep ? Tensor.zeros(Device.REFERENCE, m, r) : null;
            cpu.gatherGemm(x, idx, f, transF, 0.5f, c, xs);
            REF.gatherGemm(x.to(Device.REFERENCE), idxRef, f.to(Device.REFERENCE), transF, 0.5f, cRef, xsRef);
            new Pair(c, cRef).assertClose(route + " gatherGemm", 1e-5 * r);
            if (keep) {
                new Pair(xs, xsRef).assertBitEqual(route + " gatherGemm xs");
            }
            // scatter: c (m x cols)[:, idx] += alpha·a·op(f), a: m x k
            int k = n;
            Tensor a = Rand.tensor(rng, d, m, k), g = transF ? Rand.tensor(rng, d, r, k) : Rand.tensor(rng, d, k, r);
            Tensor dst = Rand.tensor(rng, d, m, cols), dstRef = dst.to(Device.REFERENCE);
            cpu.gemmScatter(a, g, transF, idx, -2f, dst);
            REF.gemmScatter(a.to(Device.REFERENCE), g.to(Device.REFERENCE), transF, idxRef, -2f, dstRef);
            new Pair(dst, dstRef).assertClose(route + " gemmScatter", 1e-5 * k);
        }
    }

    @Property(tries = 60)
    void gatherAndIndexAddAlongColumnsAreExact(
            @ForAll @IntRange(min = 1, max = 300) int rows,
            @ForAll @IntRange(min = 1, max = 130) int cols,
            @ForAll @IntRange(min = 1, max = 130) int rWanted,
            @ForAll long seed) {
        int r = Math.min(rWanted, cols);
        SplittableRandom rng = new SplittableRandom(seed);
        Pair x = Pair.of(rng, rows, cols);
        Pair idx = Pair.ints(Rand.distinct(rng, cols, r));
        Pair out = Pair.zeros(rows, r);
        CPU.gatherCols(x.cpu, idx.cpu, out.cpu);
        REF.gatherCols(x.ref, idx.ref, out.ref);
        out.assertBitEqual("gatherCols");
        CPU.indexAddCols(x.cpu, idx.cpu, out.cpu, -0.37f);
        REF.indexAddCols(x.ref, idx.ref, out.ref, -0.37f);
        x.assertBitEqual("indexAddCols");
    }

    @Property(tries = 60)
    void gatherAndIndexAddAlongRowsAreExact(
            @ForAll @IntRange(min = 1, max = 130) int rows,
            @ForAll @IntRange(min = 1, max = 300) int cols,
            @ForAll @IntRange(min = 1, max = 130) int rWanted,
            @ForAll long seed) {
        int r = Math.min(rWanted, rows);
        SplittableRandom rng = new SplittableRandom(seed);
        Pair x = Pair.of(rng, rows, cols);
        Pair idx = Pair.ints(Rand.distinct(rng, rows, r));
        Pair out = Pair.zeros(r, cols);
        CPU.gatherRows(x.cpu, idx.cpu, out.cpu);
        REF.gatherRows(x.ref, idx.ref, out.ref);
        out.assertBitEqual("gatherRows");
        CPU.indexAddRows(x.cpu, idx.cpu, out.cpu, 1.5f);
        REF.indexAddRows(x.ref, idx.ref, out.ref, 1.5f);
        x.assertBitEqual("indexAddRows");
    }

    @Example
    void largeScatterRunsOnSeveralThreadsAndStaysExact() {
        SplittableRandom rng = new SplittableRandom(9);
        Pair x = Pair.of(rng, 1031, 517);
        Pair idx = Pair.ints(Rand.distinct(rng, 517, 517));
        Pair src = Pair.of(rng, 1031, 517);
        CPU.indexAddCols(x.cpu, idx.cpu, src.cpu, 0.3f);
        REF.indexAddCols(x.ref, idx.ref, src.ref, 0.3f);
        x.assertBitEqual("indexAddCols r = cols");
    }

    @Property(tries = 40)
    void elementwiseKernelsAreExact(@ForAll @IntRange(min = 1, max = 100_000) int n, @ForAll long seed) {
        SplittableRandom rng = new SplittableRandom(seed);
        Pair a = Pair.of(rng, n), b = Pair.of(rng, n), out = Pair.zeros(n);
        CPU.add(a.cpu, b.cpu, out.cpu);
        REF.add(a.ref, b.ref, out.ref);
        out.assertBitEqual("add");
        CPU.sub(a.cpu, b.cpu, out.cpu);
        REF.sub(a.ref, b.ref, out.ref);
        out.assertBitEqual("sub");
        CPU.mul(a.cpu, b.cpu, out.cpu);
        REF.mul(a.ref, b.ref, out.ref);
        out.assertBitEqual("mul");
        CPU.div(a.cpu, b.cpu, out.cpu);
        REF.div(a.ref, b.ref, out.ref);
        out.assertBitEqual("div");
        CPU.scale(a.cpu, 3.3f, out.cpu);
        REF.scale(a.ref, 3.3f, out.ref);
        out.assertBitEqual("scale");
        CPU.axpy(-0.7f, a.cpu, b.cpu);
        REF.axpy(-0.7f, a.ref, b.ref);
        b.assertBitEqual("axpy");
        CPU.fill(out.cpu, 2.5f);
        REF.fill(out.ref, 2.5f);
        out.assertBitEqual("fill");
    }

    @Property(tries = 40)
    void reductionsAgreeWithinRounding(@ForAll @IntRange(min = 0, max = 200_000) int n, @ForAll long seed) {
        SplittableRandom rng = new SplittableRandom(seed);
        Pair a = Pair.of(rng, n), b = Pair.of(rng, n);
        assertEquals(REF.sum(a.ref), CPU.sum(a.cpu), 1e-9 * Math.max(1, n));
        assertEquals(REF.dot(a.ref, b.ref), CPU.dot(a.cpu, b.cpu), 1e-9 * Math.max(1, n));
    }

    @Example
    void countNonFiniteFindsNanAndBothInfinities() {
        float[] v = new float[1000];
        v[3] = Float.NaN;
        v[500] = Float.POSITIVE_INFINITY;
        v[999] = Float.NEGATIVE_INFINITY;
        v[7] = Float.MAX_VALUE;
        assertEquals(3, CPU.countNonFinite(Tensor.of(Device.CPU, v, 1000)));
        assertEquals(3, REF.countNonFinite(Tensor.of(Device.REFERENCE, v, 1000)));
    }

    @Property(tries = 40)
    void rowAndColumnOperations(
            @ForAll @IntRange(min = 1, max = 200) int rows,
            @ForAll @IntRange(min = 1, max = 1100) int cols,
            @ForAll long seed) {
        SplittableRandom rng = new SplittableRandom(seed);
        Pair x = Pair.of(rng, rows, cols), y = Pair.of(rng, rows, cols);
        Pair sr = Pair.of(rng, rows), sc = Pair.of(rng, cols);
        Pair norms = Pair.zeros(rows),
                dots = Pair.zeros(cols),
                out = Pair.zeros(rows, cols),
                tr = Pair.zeros(cols, rows);
        CPU.rowNorm(x.cpu, norms.cpu);
        REF.rowNorm(x.ref, norms.ref);
        norms.assertClose("rowNorm", 1e-6);
        CPU.colDot(x.cpu, y.cpu, dots.cpu);
        REF.colDot(x.ref, y.ref, dots.ref);
        dots.assertClose("colDot", 1e-6);
        CPU.scaleRows(x.cpu, sr.cpu, out.cpu);
        REF.scaleRows(x.ref, sr.ref, out.ref);
        out.assertBitEqual("scaleRows");
        CPU.scaleCols(x.cpu, sc.cpu, out.cpu);
        REF.scaleCols(x.ref, sc.ref, out.ref);
        out.assertBitEqual("scaleCols");
        CPU.transpose(x.cpu, tr.cpu);
        REF.transpose(x.ref, tr.ref);
        tr.assertBitEqual("transpose");
    }

    @Property(tries = 30)
    void adamwStepIsExact(
            @ForAll @IntRange(min = 1, max = 70_000) int n,
            @ForAll @IntRange(min = 1, max = 50) int t,
            @ForAll long seed) {
        SplittableRandom rng = new SplittableRandom(seed);
        Pair p = Pair.of(rng, n), g = Pair.of(rng, n), m = Pair.of(rng, n), v = Pair.of(rng, n);
        for (int i = 0; i < n; i++) { // second moments are non-negative
            v.cpu.setFloat(i, Math.abs(v.cpu.getFloat(i)));
            v.ref.setFloat(i, Math.abs(v.ref.getFloat(i)));
        }
        AdamWStep s = AdamWStep.of(1e-3, 0.9, 0.999, 1e-8, 0.01, t);
        CPU.adamwStep(p.cpu, g.cpu, m.cpu, v.cpu, s);
        REF.adamwStep(p.ref, g.ref, m.ref, v.ref, s);
        p.assertBitEqual("p");
        m.assertBitEqual("m");
        v.assertBitEqual("v");
    }
}
